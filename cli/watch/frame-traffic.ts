/** The frame's traffic: per cloud (the status document) and per proxy group (the service view) the canary's share as a bar, and each group's convergence. Pure. */
import type { StatusDocument } from '../../shared/http/status-document.js';
import { bar, columnWidth, plural, type Colors } from './format.js';
import { canaryPercent, type GroupVerification, type ServiceState, type Trouble } from './view.js';

export function trafficLines(d: StatusDocument, service: ServiceState | null, serviceTrouble: Trouble | undefined, c: Colors): string[] {
  const clouds = Object.keys(d.weights).sort();
  const groups = service ? [...new Set([...Object.keys(service.weights), ...Object.keys(service.verification)])].sort() : [];
  const width = columnWidth([...clouds, ...groups]);
  const row = (name: string, percent: number) => `  ${name.padEnd(width)}  ${bar(percent, c)} ${`${percent}%`.padStart(4)}`;
  const legend = `${c.cyan('█')} canary ${d.canary}  ${c.dim('░')} baseline ${d.baseline ?? '?'}`;
  return [
    `${c.bold('Traffic per cloud')}   ${legend}`,
    ...(clouds.length === 0 ? [c.dim('  no traffic moved yet')] : clouds.map((cloud) => row(cloud, canaryPercent(d.weights[cloud as keyof typeof d.weights], d.canary)))),
    c.bold('Proxy groups'),
    ...(service === null
      ? [c.dim(`  ${serviceTrouble ? 'not read yet' : 'reading…'}`)]
      : groups.length === 0
        ? [c.dim('  none configured')]
        : groups.map((group) => `${row(group, canaryPercent(service.weights[group], d.canary))}  ${convergenceText(service.verification[group], c)}`)),
  ];
}

/** converged / waiting on N nodes / unverified / unknown, as `GET /v1/services/{service}` verified it. */
export function convergenceText(verification: GroupVerification | undefined, c: Colors): string {
  if (verification === undefined) return c.dim('no split for this service');
  switch (verification.state) {
    case 'converged':
      return c.green('converged');
    case 'pending': {
      const first = verification.lagging[0];
      return `${c.yellow(`waiting on ${plural(verification.lagging.length, 'node')}`)}${first ? c.dim(` (${first.proxy}: ${first.reason})`) : ''}`;
    }
    case 'unverified':
      // The API says a group is unverified exactly when it lists no proxies; its reason says so at length.
      return `${c.yellow('unverified')}${c.dim(' (lists no proxies)')}`;
    case 'unknown':
      return c.red(`unknown: ${verification.reason}`);
  }
}
