/**
 * Reconciliation (docs/api.md `POST /v1/reconcile`, and the same on a schedule): compare what should be
 * with what is, repair what drifted, and say what was found and done.
 *
 *   1. Endpoints: every discovered target of every version is discovered again; a registration
 *      whose endpoints changed (pods rescheduled, scaled) is updated.
 *   2. HAProxy groups: each is asked whether it serves the service's split over those endpoints;
 *      a group that does not (a weight changed by hand, an instance restarted with its config
 *      weights, a server missing) gets the split applied again and is asked once more.
 *   3. Envoy groups: their snapshots are built again from the registry and published when their
 *      content changed, leaving out (and naming) any service whose resources break a consistency
 *      rule; then every listed node's acknowledgements are compared with what is published,
 *      naming the nodes that lag or rejected it.
 *   4. Groups that list no proxies are reported as `unverified`: nothing can say what they serve.
 *
 * Running it twice in a row changes nothing the second time: each repair is "make it so", and a
 * second run finds nothing to make. One service's failure is reported and does not stop the others.
 * Every service is reconciled as a run in shards (reconcile-run.ts: steps 1-3 per shard through
 * reconcileServices and reconcileEnvoyGroups, which publishes only the shard's services' parts);
 * reconcileMesh answers one service in a request.
 */
import { canonicalJson } from '../domain/canonical-json.js';
import { checkUniqueEndpoints } from '../domain/endpoint-address.js';
import { CrossfadeError, ValidationError, VersionConflictError } from '../domain/errors.js';
import { unverifiedReason, type ClusterEndpoints, type ProxyGroup, type ProxyKind, type RegisteredVersion, type VersionTarget } from '../domain/mesh.js';
import type { ServiceState } from '../ports/mesh-registry.js';
import type { TrafficRouter } from '../ports/traffic-router.js';
import { mapConcurrently } from '../domain/concurrency.js';
import type { MeshDeps } from './mesh-deps.js';
import type { IsolatedService } from '../engine/envoy/isolation.js';
import { publishSnapshots, type PublishReport } from './publish-snapshots.js';
import { discover } from './register-version.js';
import { serviceBackend } from './service-backend.js';
import { verifyEnvoyGroup } from './verify-envoy-group.js';
import type { XdsDeps } from './xds-deps.js';

/** Services reconciled at once: each is a few store reads and a round trip per proxy. */
const SERVICE_CONCURRENCY = 8;

export interface ReconcileDeps extends MeshDeps, XdsDeps {
  /** The router for each kind of proxy group this entry point can reach. */
  routers: Partial<Record<ProxyKind, TrafficRouter>>;
}

export type Finding =
  | { kind: 'endpoints-changed'; version: string; cluster: string; before: number; after: number }
  /** Discovered endpoints that registration would refuse (an address class, one endpoint twice): the registration keeps its endpoints. */
  | { kind: 'endpoints-refused'; version: string; cluster: string; rule: string; reason: string }
  /** The service's resources break a consistency rule: it is left out of the group's snapshot, every other service is published. */
  | { kind: 'isolated'; proxyGroup: string; rule: string; reason: string }
  | { kind: 'proxy-drift'; proxyGroup: string; proxy: string; reason: string }
  | { kind: 'proxy-unreachable'; proxyGroup: string; reason: string }
  | { kind: 'not-reconciled'; proxyGroup: string; reason: string }
  | { kind: 'failed'; reason: string };

export type Action =
  | { kind: 'registration-updated'; version: string; revision: number }
  | { kind: 'split-reapplied'; proxyGroup: string; converged: boolean };

/** What reconciliation found and did for one Envoy group (its snapshot spans every service). */
export interface EnvoyGroupReport {
  proxyGroup: string;
  findings: ({ kind: 'proxy-lagging'; proxy: string; reason: string } | { kind: 'snapshot-refused'; reason: string } | { kind: 'service-isolated'; service: string; rule: string; reason: string })[];
  actions: { kind: 'snapshot-published'; revision: number }[];
}

export interface ServiceReport {
  service: string;
  findings: Finding[];
  actions: Action[];
}

export interface ReconcileReport {
  startedAt: string;
  finishedAt: string;
  services: ServiceReport[];
  envoyGroups: EnvoyGroupReport[];
  /** Proxy groups that list no proxies: nothing was asked what they serve, so nothing says they serve it (domain/mesh.ts unverifiedReason). */
  unverified: { proxyGroup: string; reason: string }[];
  /** Services with at least one finding, with at least one action, that failed, isolated from some snapshot; groups unverified. */
  summary: { services: number; drifted: number; repaired: number; failed: number; isolated: number; unverifiedGroups: number };
}

export interface ReconcileRequest {
  /** One service; undefined: every registered one. */
  service?: string;
  /** Who asked and why (an operator's call); undefined: the schedule. Logged with the outcome. */
  requestedBy?: { actor: string; reason: string | null };
}

export async function reconcileMesh(deps: ReconcileDeps, request: ReconcileRequest): Promise<ReconcileReport> {
  const startedAt = deps.clock.now().toISOString();
  const services = request.service !== undefined ? [request.service] : await deps.registry.listServices();
  const reports = await reconcileServices(deps, services);
  // One service: its part alone; everything: the whole registry, removing parts of services gone.
  const envoyGroups = await reconcileEnvoyGroups(deps, request.service !== undefined ? services : undefined);
  for (const group of envoyGroups) {
    for (const finding of group.findings) {
      if (finding.kind !== 'service-isolated') continue;
      reports.find((r) => r.service === finding.service)?.findings.push({ kind: 'isolated', proxyGroup: group.proxyGroup, rule: finding.rule, reason: finding.reason });
    }
  }
  const unverified = deps.proxyGroups.flatMap((group) => {
    const reason = unverifiedReason(group);
    return reason === null ? [] : [{ proxyGroup: group.name, reason }];
  });
  const report: ReconcileReport = {
    startedAt,
    finishedAt: deps.clock.now().toISOString(),
    services: reports,
    envoyGroups,
    unverified,
    summary: {
      services: reports.length,
      drifted: reports.filter((r) => r.findings.length > 0).length,
      repaired: reports.filter((r) => r.actions.length > 0).length,
      failed: reports.filter((r) => r.findings.some((f) => f.kind === 'failed')).length,
      isolated: reports.filter((r) => r.findings.some((f) => f.kind === 'isolated')).length,
      unverifiedGroups: unverified.length,
    },
  };
  deps.logger.info('mesh reconciled', { ...report.summary, ...(request.requestedBy ? { actor: request.requestedBy.actor, reason: request.requestedBy.reason } : {}) });
  if (unverified.length > 0) deps.logger.warn('proxy groups list no proxies: what they serve is unverified', { unverified });
  return report;
}

/** Steps 1 and 2 for each of `services`, a few at a time: each one's report, failures included. */
export function reconcileServices(deps: ReconcileDeps, services: readonly string[]): Promise<ServiceReport[]> {
  return mapConcurrently(services, SERVICE_CONCURRENCY, (service) => reconcileService(deps, service));
}

async function reconcileService(deps: ReconcileDeps, service: string): Promise<ServiceReport> {
  const report: ServiceReport = { service, findings: [], actions: [] };
  try {
    let state = await deps.registry.getService(service);
    if (!state) return report;
    for (const version of state.versions) await refreshEndpoints(deps, version, report);
    if (report.actions.length > 0) state = (await deps.registry.getService(service)) ?? state;
    for (const group of deps.proxyGroups) await reconcileGroup(deps, group, state, report);
  } catch (error) {
    // One service's failure must not stop the others; it is reported, and logged when unexpected.
    if (!(error instanceof CrossfadeError)) deps.logger.error('reconciliation failed', { service, error });
    report.findings.push({ kind: 'failed', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
  return report;
}

async function refreshEndpoints(deps: ReconcileDeps, version: RegisteredVersion, report: ServiceReport): Promise<void> {
  const targets = version.discoveredFrom ?? [];
  if (targets.length === 0) return;
  const fresh = new Map<string, ClusterEndpoints>(version.clusters.map((c) => [c.cluster, c]));
  for (const target of targets) {
    const before = fresh.get(target.cluster);
    const others = [...fresh.values()].filter((c) => c.cluster !== target.cluster);
    const endpoints = await discoverChecked(deps, target, others, version.version, report);
    if (!endpoints || (before && canonicalJson(before.endpoints) === canonicalJson(endpoints))) continue;
    const region = before?.region ?? deps.clusters.find((c) => c.name === target.cluster)?.region ?? '';
    fresh.set(target.cluster, { cloud: target.cloud, cluster: target.cluster, region, endpoints });
    report.findings.push({ kind: 'endpoints-changed', version: version.version, cluster: target.cluster, before: before?.endpoints.length ?? 0, after: endpoints.length });
  }
  const clusters = [...fresh.values()].sort((a, b) => a.cluster.localeCompare(b.cluster));
  if (canonicalJson(clusters) === canonicalJson(version.clusters)) return;
  const revision = version.revision + 1;
  try {
    await deps.registry.putVersion({ ...version, clusters, revision, registeredAt: deps.clock.now().toISOString() });
  } catch (error) {
    // Someone re-registered meanwhile: theirs is newer than what we discovered; the next run looks again.
    if (error instanceof VersionConflictError) return;
    throw error;
  }
  report.actions.push({ kind: 'registration-updated', version: version.version, revision });
}

/**
 * The target's endpoints as discovered, or undefined (with a finding) when registration would
 * refuse them: an address class, or an endpoint the version has in another cluster.
 */
async function discoverChecked(deps: ReconcileDeps, target: VersionTarget, others: readonly ClusterEndpoints[], version: string, report: ServiceReport): Promise<ClusterEndpoints['endpoints'] | undefined> {
  try {
    const field = `clusters.${target.cluster}.discovered`;
    const endpoints = await discover(deps, target, field);
    checkUniqueEndpoints([...others.map((c) => ({ field: `clusters.${c.cluster}.endpoints`, endpoints: c.endpoints })), { field, endpoints }]);
    return endpoints;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    report.findings.push({ kind: 'endpoints-refused', version, cluster: target.cluster, rule: error.rule ?? 'invalid', reason: error.message });
    return undefined;
  }
}

async function reconcileGroup(deps: ReconcileDeps, group: ProxyGroup, state: ServiceState, report: ServiceReport): Promise<void> {
  const split = state.splits.find((s) => s.proxyGroup === group.name);
  // Envoy groups are reconciled whole, not per service (reconcileEnvoyGroups): one publish of the
  // shard's services repairs every service's part (and a run of everything removes the parts of
  // services gone), and a node behind is one finding for its group, not one per service, which
  // the per-service verbs of their router (envoy-router.ts) would make it. A group without
  // proxies has none to ask, and is reported once as unverified rather than as converged.
  if (!split || group.kind === 'envoy' || unverifiedReason(group) !== null) return;
  const router = deps.routers[group.kind];
  if (!router) {
    report.findings.push({ kind: 'not-reconciled', proxyGroup: group.name, reason: `no ${group.kind} router here` });
    return;
  }
  const backend = serviceBackend(state);
  const verification = await router.verifySplit(group, state.service, backend, split.weights);
  // Proxies that take what is in place by themselves need no repair.
  if (verification.state === 'converged' || verification.state === 'propagating') return;
  if (verification.state === 'unknown') {
    report.findings.push({ kind: 'proxy-unreachable', proxyGroup: group.name, reason: verification.reason });
    return;
  }
  for (const lagging of verification.lagging) report.findings.push({ kind: 'proxy-drift', proxyGroup: group.name, proxy: lagging.proxy, reason: lagging.reason });
  await router.applySplit(group, state.service, backend, split.weights);
  const after = await router.verifySplit(group, state.service, backend, split.weights);
  report.actions.push({ kind: 'split-reapplied', proxyGroup: group.name, converged: after.state === 'converged' });
}

/** Republishes every Envoy group whose snapshot content changed, then checks its nodes' acknowledgements. */
export async function reconcileEnvoyGroups(deps: ReconcileDeps, services: readonly string[] | undefined): Promise<EnvoyGroupReport[]> {
  const groups = deps.proxyGroups.filter((g) => g.kind === 'envoy');
  if (groups.length === 0) return [];
  const published = await publishSnapshots(deps, services ? { services } : {});
  return Promise.all(
    groups.map(async (group) => {
      const report: EnvoyGroupReport = { proxyGroup: group.name, findings: [], actions: [] };
      const publication = published.groups.find((p) => p.group === group.name);
      if (publication?.outcome === 'published') report.actions.push({ kind: 'snapshot-published', revision: publication.revision });
      if (publication?.outcome === 'refused') report.findings.push({ kind: 'snapshot-refused', reason: publication.reason });
      for (const isolated of isolatedIn(publication)) report.findings.push({ kind: 'service-isolated', service: isolated.service, rule: isolated.rule, reason: isolated.reason });
      // A group without node ids is in the report's `unverified`.
      if (unverifiedReason(group) !== null) return report;
      const verification = await verifyEnvoyGroup(deps, group);
      if (verification.state === 'pending') for (const lag of verification.lagging) report.findings.push({ kind: 'proxy-lagging', proxy: lag.proxy, reason: lag.reason });
      return report;
    }),
  );
}

function isolatedIn(publication: PublishReport['groups'][number] | undefined): readonly IsolatedService[] {
  return publication && publication.outcome !== 'refused' ? publication.isolated : [];
}
