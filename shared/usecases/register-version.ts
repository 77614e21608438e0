/**
 * Registering a version of a service in the mesh (docs/api.md `PUT /v1/services/{s}/versions/{v}`):
 * its endpoints in every named cluster, given or discovered, and its place in every proxy group's
 * split — at 0%, unless it is the service's first version (then it serves everything, there being
 * nothing else to serve).
 *
 * Idempotent and crash-safe: every step is "make it so" (write only what differs), so a retry
 * after a crash finishes what the first attempt started, and a repeat changes nothing.
 */
import { canonicalJson } from '../domain/canonical-json.js';
import { checkEndpointAddress, checkUniqueEndpoints } from '../domain/endpoint-address.js';
import { VersionConflictError } from '../domain/errors.js';
import { allTo, checkEndpoint, normalizeEndpoints, withVersionAtZero, type ClusterEndpoints, type Endpoint, type GroupSplit, type RegisteredVersion, type VersionTarget } from '../domain/mesh.js';
import { checkTargets } from '../domain/plan.js';
import type { ServiceState } from '../ports/mesh-registry.js';
import type { MeshDeps } from './mesh-deps.js';

export interface RegistrationTarget extends VersionTarget {
  /** Given endpoints; undefined: discover them through the cluster's API. */
  endpoints?: Endpoint[];
}

export interface RegisterVersionCommand {
  service: string;
  version: string;
  targets: RegistrationTarget[];
  actor: string;
  /** The caller's why, for the audit trail. */
  reason?: string | null;
}

export interface RegisterVersionResult {
  registration: RegisteredVersion;
  outcome: 'created' | 'updated' | 'unchanged';
}

const WRITE_ATTEMPTS = 3;

export async function registerVersion(deps: MeshDeps, command: RegisterVersionCommand): Promise<RegisterVersionResult> {
  checkTargets(command.targets, deps.clusters);
  // Given endpoints are refused before anything is discovered; discovered ones once they are.
  const given = command.targets.flatMap((target, index) => (target.endpoints ? [{ field: `targets[${index}].endpoints`, endpoints: target.endpoints }] : []));
  for (const list of given) checkEndpointList(deps, list);
  checkUniqueEndpoints(given);
  const clusters = await resolveEndpoints(deps, command.targets);

  for (let attempt = 1; ; attempt++) {
    try {
      const state = await deps.registry.getService(command.service);
      const result = await ensureVersion(deps, command, clusters, state);
      await ensureSplits(deps, command.service, command.version, state, result.registration);
      await deps.audit.append({
        subject: `service/${command.service}`,
        eventId: `${result.registration.registeredAt}#${command.version}-r${result.registration.revision}`,
        at: result.registration.registeredAt,
        actor: result.registration.registeredBy,
        action: 'service.version-registered',
        reason: command.reason ?? null,
        details: { version: command.version, revision: result.registration.revision, clusters: clusters.map((c) => ({ cluster: c.cluster, endpoints: c.endpoints.length })) },
      });
      deps.logger.info('version registered', { service: command.service, version: command.version, outcome: result.outcome, actor: command.actor });
      return result;
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= WRITE_ATTEMPTS) throw error;
    }
  }
}

/**
 * Every target's endpoints, discovered where not given. Discovered endpoints pass the checks given
 * ones did (an address class, one endpoint in two clusters); within one target they are taken once
 * each, since an endpoint may sit in two EndpointSlices while they are updated.
 */
async function resolveEndpoints(deps: MeshDeps, targets: readonly RegistrationTarget[]): Promise<ClusterEndpoints[]> {
  const lists = await Promise.all(
    targets.map(async (target, index) =>
      target.endpoints ? { field: `targets[${index}].endpoints`, endpoints: target.endpoints } : { field: `targets[${index}].discovered`, endpoints: await discover(deps, target, `targets[${index}].discovered`) },
    ),
  );
  checkUniqueEndpoints(lists);
  const resolved = targets.map((target, index) => {
    const cluster = deps.clusters.find((c) => c.name === target.cluster)!;
    return { cloud: target.cloud, cluster: target.cluster, region: cluster.region, endpoints: normalizeEndpoints(lists[index]!.endpoints) };
  });
  return resolved.sort((a, b) => a.cluster.localeCompare(b.cluster));
}

/** A target's endpoints as discovered, each once, checked as given ones are (`field`: `targets[1].discovered`). */
export async function discover(deps: Pick<MeshDeps, 'clusterProvider' | 'allowedEndpointCidrs'>, target: VersionTarget, field: string): Promise<Endpoint[]> {
  const endpoints = normalizeEndpoints(await deps.clusterProvider.discoverEndpoints(target));
  checkEndpointList(deps, { field, endpoints });
  return endpoints;
}

/** Each endpoint an IP literal and port, at an address proxies may route to (domain/endpoint-address.ts). */
function checkEndpointList(deps: Pick<MeshDeps, 'allowedEndpointCidrs'>, { field, endpoints }: { field: string; endpoints: readonly Endpoint[] }): void {
  endpoints.forEach((endpoint, j) => {
    checkEndpoint(endpoint, `${field}[${j}]`);
    checkEndpointAddress(endpoint.address, `${field}[${j}].address`, deps.allowedEndpointCidrs ?? []);
  });
}

async function ensureVersion(
  deps: MeshDeps,
  command: RegisterVersionCommand,
  clusters: ClusterEndpoints[],
  state: ServiceState | undefined,
): Promise<RegisterVersionResult> {
  const current = state?.versions.find((v) => v.version === command.version);
  const discoveredFrom = command.targets.filter((t) => t.endpoints === undefined).map(({ cloud, cluster, namespace, kubernetesService, port }) => ({ cloud, cluster, namespace, kubernetesService, port }));
  if (current && same(current.clusters, clusters) && same(current.discoveredFrom ?? [], discoveredFrom)) return { registration: current, outcome: 'unchanged' };
  const registration: RegisteredVersion = {
    service: command.service,
    version: command.version,
    clusters,
    discoveredFrom,
    registeredAt: deps.clock.now().toISOString(),
    registeredBy: command.actor,
    revision: (current?.revision ?? 0) + 1,
  };
  await deps.registry.putVersion(registration);
  return { registration, outcome: current ? 'updated' : 'created' };
}

/** Every configured proxy group gets a split that names the version. */
async function ensureSplits(deps: MeshDeps, service: string, version: string, state: ServiceState | undefined, registration: RegisteredVersion): Promise<void> {
  const others = (state?.versions ?? []).filter((v) => v.version !== version).sort((a, b) => a.registeredAt.localeCompare(b.registeredAt));
  for (const group of deps.proxyGroups) {
    const current = state?.splits.find((s) => s.proxyGroup === group.name);
    // A group without a split (new service, or a group added to the configuration later) starts
    // on the oldest other version; only a service's first version starts with the traffic.
    const base = current?.weights ?? (others[0] ? allTo(others[0].version) : allTo(version));
    const weights = withVersionAtZero(base, version);
    if (current && weights === current.weights) continue;
    // Spread what was read: fields this writer does not know (a deployment's fencingToken) survive.
    const split: GroupSplit = current ? { ...current, weights, revision: current.revision + 1, updatedAt: registration.registeredAt } : { service, proxyGroup: group.name, weights, revision: 1, updatedAt: registration.registeredAt };
    await deps.registry.putSplit(split);
  }
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
