/**
 * A group's snapshot that no one service can poison. A snapshot is published only when it passes
 * the consistency check (consistency.ts), so one service whose registration breaks a rule (a
 * registry written before registration refused it, or by hand) used to stop every publish of
 * every group, and with it every other service's canary. Here a service whose own resources break
 * a rule is left out of the group's snapshot and named, and every other service is published.
 *
 * Left out, rather than kept at its last published resources: those are in the published chunks,
 * which would have to be read back on every publish while the service stays broken (megabytes at
 * 10,000 services); they would be served while the registry, and GET /v1/services, say something
 * else; and a service broken at its first publish has none. Leaving it out keeps the published
 * snapshot exactly "the registry, minus the services it names as isolated".
 *
 * Cost: the whole snapshot is checked once, as before; services are checked one by one only when
 * that check fails, so the price of isolation is paid only while something is broken.
 */
import { ValidationError } from '../../domain/errors.js';
import { assertConsistent, describeProblems, problemField, snapshotProblems } from './consistency.js';
import { assembleGroupSnapshot, serviceOnlySnapshot, serviceResources, type GroupMesh, type ServiceMesh, type ServiceResources, type Snapshot, type SnapshotOptions } from './snapshot.js';

/** A service left out of a group's snapshot, and the rule its resources break. */
export interface IsolatedService {
  service: string;
  /** A consistency rule (consistency.ts `ConsistencyRule`), or a split's rule (`split-sums-to-100`...). */
  rule: string;
  /** The first resource at fault (`ClusterLoadAssignment/checkout--v9`), or the split's field. */
  field: string | undefined;
  reason: string;
}

export interface IsolatingBuild {
  snapshot: Snapshot;
  /** By service name. */
  isolated: IsolatedService[];
}

/**
 * The group's snapshot without the services whose own resources break a rule. Throws
 * ValidationError when what remains still breaks one: a problem between services (two resources
 * of one name), which no single service can be left out for; the group is then refused whole.
 */
export function buildIsolatingSnapshot(mesh: GroupMesh, options: SnapshotOptions): IsolatingBuild {
  const isolated: IsolatedService[] = [];
  const built: ServiceResources[] = [];
  for (const service of mesh.services) {
    const part = buildService(service, mesh.group, options);
    if ('rule' in part) isolated.push(part);
    else built.push(part);
  }
  const whole = assembleGroupSnapshot(mesh.group, built, options);
  if (snapshotProblems(whole).length === 0) return { snapshot: whole, isolated: byService(isolated) };
  const kept = built.filter((part) => {
    const problem = serviceProblem(mesh.group, part, options);
    if (problem) isolated.push(problem);
    return problem === undefined;
  });
  const snapshot = kept.length === built.length ? whole : assembleGroupSnapshot(mesh.group, kept, options);
  assertConsistent(snapshot);
  return { snapshot, isolated: byService(isolated) };
}

/** Whether a service would be left out of `group`'s snapshot, and why (GET /v1/services/{service}). */
export function isolationOf(service: ServiceMesh, group: GroupMesh['group'], options: Omit<SnapshotOptions, 'hash'>): IsolatedService | undefined {
  const part = buildService(service, group, options);
  return 'rule' in part ? part : serviceProblem(group, part, options);
}

function buildService(service: ServiceMesh, group: GroupMesh['group'], options: Omit<SnapshotOptions, 'hash'>): ServiceResources | IsolatedService {
  try {
    return serviceResources(service, group, options);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { service: service.service, rule: error.rule ?? 'invalid', field: error.field, reason: error.message };
  }
}

function serviceProblem(group: GroupMesh['group'], part: ServiceResources, options: Omit<SnapshotOptions, 'hash'>): IsolatedService | undefined {
  const problems = snapshotProblems(serviceOnlySnapshot(group, part, options));
  const first = problems[0];
  return first && { service: part.service, rule: first.rule, field: problemField(first), reason: describeProblems(problems) };
}

function byService(isolated: IsolatedService[]): IsolatedService[] {
  return isolated.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}
