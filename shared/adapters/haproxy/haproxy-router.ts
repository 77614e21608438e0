/**
 * TrafficRouter for `kind: 'haproxy'` proxy groups, through each instance's Runtime API.
 *
 * Names inside HAProxy (configuration.txt §4: proxy names are [A-Za-z0-9_.:-]; server names pass
 * the same check, measured with an IPv6 name):
 * - backend `cf_<service>`: every instance declares it with a dynamic balance algorithm (`balance
 *   roundrobin`; static ones refuse weights and `add server`), in the servers file that `crossfade
 *   haproxy-state` writes (server-state.ts), or in haproxy.cfg if reloads need not keep servers.
 *   The prefix marks the backend as crossfade's: crossfade drains and deletes any server in it
 *   that is not a registered endpoint, so it must never share a backend with hand-written servers.
 * - server `<version>_<address>_<port>` (`v42_10.0.0.7_8080`, `v42_fd00::7_8080`): derived from the
 *   endpoint, not its position, so an endpoint keeps its server when others come and go. Service
 *   names are DNS-1123 labels and versions [A-Za-z0-9._-]; the name reads back unambiguously from
 *   the right, since neither an address nor a port contains "_".
 *
 * Per instance, applySplit reads `show servers state <backend>` and sends only what differs, in
 * up to three lines: (1) `add server` (starts in maintenance, weight given), weight and address
 * fixes, and `drain` for servers no longer registered; (2) only when (1) was accepted, `state ready`
 * for servers not yet serving, so none serves before its weight is set; (3) `del server` for
 * servers a previous call drained, after putting them in maintenance. Draining and deleting in
 * different calls gives connections opened before the first call the time between calls to end;
 * HAProxy refuses to delete a server that still has some, which leaves it in maintenance for the
 * next call.
 *
 * Runtime changes are lost on reload unless the config names the servers and a fresh
 * `server-state-file` is written just before the reload (docs/dataplane.md): `crossfade
 * haproxy-state save`, run on the proxy host before every reload, writes both (server-state.ts).
 * Without it, dynamic servers are lost on reload and the next applySplit adds them again.
 */
import { CrossfadeError, DependencyUnavailableError, InternalError } from '../../domain/errors.js';
import { serverWeightsFor } from '../../domain/haproxy-weights.js';
import type { Endpoint, ProxyGroup, Split } from '../../domain/mesh.js';
import { checkRouterArguments } from '../../domain/router-arguments.js';
import type { TrafficRouter, VersionEndpoints, Verification } from '../../ports/traffic-router.js';
import { HaproxyRuntimeApi, runtimeCommands, type RuntimeApiProxy, type RuntimeApiSettings, type RuntimeCommand, type ServerState } from './runtime-api.js';

export function haproxyBackendName(service: string): string {
  return `cf_${service}`;
}

export function haproxyServerName(version: string, endpoint: Endpoint): string {
  return `${version}_${endpoint.address}_${endpoint.port}`;
}

/** A server as the split wants it on every instance. */
interface DesiredServer {
  name: string;
  address: string;
  port: number;
  weight: number;
}

/** Reasons listed per lagging proxy; the rest are counted. */
const MAX_REASONS = 5;

export class HaproxyTrafficRouter implements TrafficRouter {
  constructor(private readonly settings: RuntimeApiSettings = {}) {}

  async applySplit(group: ProxyGroup, service: string, backend: readonly VersionEndpoints[], split: Split): Promise<void> {
    const desired = desiredServers(service, backend, split);
    const instances = this.instancesOf(group);
    const backendName = haproxyBackendName(service);
    const results = await Promise.allSettled(instances.map(({ api }) => applyTo(api, backendName, desired)));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    // A refusal will not go away by retrying, so it is the one to report when both kinds happened.
    const worst = failures.find((failure) => !(failure instanceof CrossfadeError && failure.retryable)) ?? failures[0];
    if (worst !== undefined) throw worst;
  }

  async verifySplit(group: ProxyGroup, service: string, backend: readonly VersionEndpoints[], split: Split): Promise<Verification> {
    const desired = desiredServers(service, backend, split);
    const instances = this.instancesOf(group);
    // No instance answered, so none can be said to serve it.
    if (instances.length === 0) return { state: 'unknown', reason: `proxy group ${group.name} lists no HAProxy instances` };
    const backendName = haproxyBackendName(service);
    const results = await Promise.allSettled(instances.map(async ({ api }) => differences(await api.showServersState(backendName), desired)));

    const unreachable: string[] = [];
    const lagging: { proxy: string; reason: string }[] = [];
    results.forEach((result, index) => {
      const { proxy } = instances[index]!;
      if (result.status === 'rejected') {
        if (!(result.reason instanceof DependencyUnavailableError)) throw result.reason;
        unreachable.push(result.reason.message);
      } else if (result.value.length > 0) {
        const more = result.value.length > MAX_REASONS ? `; and ${result.value.length - MAX_REASONS} more` : '';
        lagging.push({ proxy: proxy.name, reason: result.value.slice(0, MAX_REASONS).join('; ') + more });
      }
    });
    if (unreachable.length > 0) return { state: 'unknown', reason: unreachable.join('; ') };
    return lagging.length > 0 ? { state: 'pending', lagging } : { state: 'converged' };
  }

  /** Clients for every instance, built before any is contacted so a bad address stops the whole call. */
  private instancesOf(group: ProxyGroup): { proxy: RuntimeApiProxy; api: HaproxyRuntimeApi }[] {
    if (group.kind !== 'haproxy') throw new InternalError(`proxy group ${group.name} is of kind ${group.kind}; the HAProxy router only drives haproxy groups`);
    return group.proxies.map((proxy) => ({ proxy, api: new HaproxyRuntimeApi(proxy, this.settings) }));
  }
}

// Moved beside the servers file it now comes with; still exported here for existing callers.
export { writeServerStateFile } from './server-state.js';

async function applyTo(api: HaproxyRuntimeApi, backend: string, desired: readonly DesiredServer[]): Promise<void> {
  const current = await api.showServersState(backend);
  const { changes, enables, deletions } = plan(backend, current, desired);
  await api.run(changes, `set weights in backend ${backend}`);
  await api.run(enables, `enable servers in backend ${backend}`);
  await api.run(deletions, `delete drained servers of backend ${backend}`);
}

function plan(backend: string, current: readonly ServerState[], desired: readonly DesiredServer[]): Record<'changes' | 'enables' | 'deletions', RuntimeCommand[]> {
  const changes: RuntimeCommand[] = [];
  const enables: RuntimeCommand[] = [];
  const deletions: RuntimeCommand[] = [];
  const byName = new Map(current.map((server) => [server.server, server]));
  for (const want of desired) {
    const have = byName.get(want.name);
    if (!have) {
      changes.push(runtimeCommands.addServer(backend, want.name, want.address, want.port, want.weight));
    } else {
      if (have.address !== want.address || have.port !== want.port) changes.push(runtimeCommands.setAddress(backend, want.name, want.address, want.port));
      if (have.weight !== want.weight) changes.push(runtimeCommands.setWeight(backend, want.name, want.weight));
    }
    if (have?.admin !== 'ready') enables.push(runtimeCommands.setState(backend, want.name, 'ready'));
  }
  const wanted = new Set(desired.map(({ name }) => name));
  for (const stale of current.filter(({ server }) => !wanted.has(server))) {
    if (stale.admin === 'ready') {
      changes.push(runtimeCommands.setState(backend, stale.server, 'drain'));
    } else {
      if (stale.admin === 'drain') changes.push(runtimeCommands.setState(backend, stale.server, 'maint'));
      deletions.push(runtimeCommands.deleteServer(backend, stale.server));
    }
  }
  return { changes, enables, deletions };
}

/** What keeps an instance from serving the split, one phrase each; empty when it serves it. */
function differences(current: readonly ServerState[], desired: readonly DesiredServer[]): string[] {
  const found: string[] = [];
  const byName = new Map(current.map((server) => [server.server, server]));
  for (const want of desired) {
    const have = byName.get(want.name);
    if (!have) {
      found.push(`server ${want.name} is missing`);
      continue;
    }
    if (have.address !== want.address || have.port !== want.port) found.push(`server ${want.name} points at ${have.address}:${have.port}`);
    if (have.weight !== want.weight) found.push(`server ${want.name} has weight ${have.weight}, expected ${want.weight}`);
    if (have.admin !== 'ready') found.push(`server ${want.name} is in ${have.admin}`);
  }
  const wanted = new Set(desired.map(({ name }) => name));
  for (const stale of current) {
    if (!wanted.has(stale.server) && stale.admin === 'ready' && stale.weight > 0) found.push(`server ${stale.server} is not a registered endpoint but takes traffic`);
  }
  return found;
}

/** Validates everything the proxies would see (domain/router-arguments.ts); throws ValidationError before anything is sent. */
function desiredServers(service: string, backend: readonly VersionEndpoints[], split: Split): DesiredServer[] {
  checkRouterArguments(service, backend, split);
  const servers = backend.flatMap(({ version, endpoints }) => endpoints.map((endpoint) => ({ name: haproxyServerName(version, endpoint), version, address: endpoint.address, port: endpoint.port })));
  const weights = serverWeightsFor(split, servers.map(({ name, version }) => ({ server: name, version })));
  return servers.map(({ name, address, port }) => ({ name, address, port, weight: weights.get(name)! }));
}
