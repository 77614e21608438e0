/**
 * A split (percent per version) laid onto HAProxy server weights. HAProxy balances between servers,
 * not versions, so a version's share is the SUM of its servers' weights over the sum of all
 * weights; each server takes an absolute weight from 0 to 256 (`set server B/S weight`).
 *
 * The rule: every version's total is `scale × percent`, one common scale for all versions, so the
 * versions' totals are exactly proportional to their percents. A total is spread over the
 * version's servers as evenly as integers allow: each gets ⌊total / n⌋, and the first
 * `total mod n` servers in name order get one more. Name order (not input order) keeps the result
 * independent of the order discovery lists endpoints, so re-applying a split never reshuffles.
 *
 * The scale is the SMALLEST that lets every version's total divide evenly by its server count
 * (90/10 over 2+2 servers: scale 1, 45+45 and 5+5; over 3+3: scale 3, 90×3 and 10×3). Small
 * totals keep weights readable as percents and keep HAProxy's wheel short: its round robin serves
 * each server exactly its weight × 16 times per turn, so the exact share shows within
 * 16 × Σweights requests of a change. When no even scale fits under 256 per server, the scale is the
 * LARGEST that fits, which makes the uneven remainder as small as the range allows.
 *
 * Precision (docs/dataplane.md): whole percents are always exact, because a percent is at most 100
 * and a single server already holds 256. What the range limits is evenness inside a version: a
 * version whose total is smaller than its server count leaves some of its servers at weight 0
 * (99/1 with one baseline server and 50 canary servers: the baseline takes 198, the canary's 2 go to
 * two of its 50 servers). The version's share stays exact; only those servers idle.
 */
import { ValidationError } from './errors.js';
import { checkSplit, type Split } from './mesh.js';

/** HAProxy's largest absolute server weight (management.txt, `set server <b>/<s> weight`). */
export const HAPROXY_MAX_WEIGHT = 256;

/** A server of an HAProxy backend and the version it runs. */
export interface VersionedServer {
  server: string;
  version: string;
}

/**
 * The weight of every server for `split`. Servers of versions at 0%, or not named in the split, get
 * weight 0: the split says who serves, and nobody else does.
 *
 * Throws ValidationError when the split is invalid (checkSplit), a server name repeats, or a
 * version with a share above 0% has no server (field `weights.<version>`).
 */
export function serverWeightsFor(split: Split, servers: readonly VersionedServer[]): Map<string, number> {
  checkSplit(split);
  const serversByVersion = new Map<string, string[]>();
  const weights = new Map<string, number>();
  for (const { server, version } of servers) {
    if (weights.has(server)) throw new ValidationError(`server "${server}" is listed twice`, 'servers', 'server-unique');
    weights.set(server, 0);
    const ofVersion = serversByVersion.get(version) ?? [];
    ofVersion.push(server);
    serversByVersion.set(version, ofVersion);
  }

  const serving = Object.entries(split)
    .filter(([, percent]) => percent > 0)
    .map(([version, percent]) => ({ version, percent, servers: [...(serversByVersion.get(version) ?? [])].sort(byCodeUnits) }));
  for (const { version, percent, servers: names } of serving) {
    if (names.length === 0) {
      throw new ValidationError(`weights.${version} is ${percent}% but version ${version} has no endpoints to serve it`, `weights.${version}`, 'version-has-endpoints');
    }
  }

  const scale = evenScale(serving) ?? finestScale(serving);
  for (const { percent, servers: names } of serving) {
    const total = scale * percent;
    const base = Math.floor(total / names.length);
    const remainder = total % names.length;
    names.forEach((name, index) => weights.set(name, base + (index < remainder ? 1 : 0)));
  }
  return weights;
}

interface ServingVersion {
  percent: number;
  servers: readonly string[];
}

/**
 * The smallest scale that makes `scale × percent` a multiple of the server count for every
 * version (the lcm of n / gcd(n, percent)), or undefined when a server's weight would pass 256.
 */
function evenScale(serving: readonly ServingVersion[]): number | undefined {
  let scale = 1;
  for (const { percent, servers } of serving) {
    const needed = servers.length / gcd(servers.length, percent);
    scale = (scale / gcd(scale, needed)) * needed;
    if (!Number.isSafeInteger(scale * percent)) return undefined;
  }
  const fits = serving.every(({ percent, servers }) => (scale * percent) / servers.length <= HAPROXY_MAX_WEIGHT);
  return fits ? scale : undefined;
}

/** The largest scale that keeps every server at or below 256: at least 2, since a percent is at most 100. */
function finestScale(serving: readonly ServingVersion[]): number {
  return Math.min(...serving.map(({ percent, servers }) => Math.floor((HAPROXY_MAX_WEIGHT * servers.length) / percent)));
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
