/**
 * Is a snapshot whole? go-control-plane's `Consistent()` (every EDS and RDS name referenced exactly
 * once over, nothing unreferenced) plus what it lacks (docs/dataplane.md): api_listener references,
 * and routes whose clusters exist and have endpoints. Also the rules gRPC NACKs that a snapshot
 * assembled by hand could break. A snapshot is checked before it is published, so nothing
 * half-built reaches a proxy. Works on any JSON (a snapshot may come from a file), so every read
 * is defensive.
 */
import { ValidationError } from '../../domain/errors.js';
import { HCM_TYPE, ROUTER_TYPE, XDS_PUSH_ORDER, XdsType, type JsonObject, type JsonValue, type Snapshot, type XdsTypeUrl } from './snapshot.js';

export const ConsistencyRule = {
  DuplicateName: 'duplicate-name',
  NameMismatch: 'name-mismatch',
  WrongType: 'wrong-type',
  EdsMissing: 'eds-missing',
  EdsUnreferenced: 'eds-unreferenced',
  RdsMissing: 'rds-missing',
  RdsUnreferenced: 'rds-unreferenced',
  RouterNotLast: 'router-not-last',
  RouteClusterMissing: 'route-cluster-missing',
  RouteClusterEmpty: 'route-cluster-empty',
  RouteWeightZero: 'route-weight-zero',
  LocalityWeightMissing: 'locality-weight-missing',
  PriorityGap: 'priority-gap',
  DuplicateEndpoint: 'duplicate-endpoint',
} as const;
export type ConsistencyRuleName = (typeof ConsistencyRule)[keyof typeof ConsistencyRule];

export interface ConsistencyProblem {
  rule: ConsistencyRuleName;
  typeUrl: XdsTypeUrl;
  /** The resource's name. */
  resource: string;
  message: string;
}

const UINT32_MAX = 4_294_967_295;
const kindOf = (typeUrl: XdsTypeUrl): string => typeUrl.slice(typeUrl.lastIndexOf('.') + 1);

/** Every problem found, in a stable order; empty when the snapshot may be published. */
export function snapshotProblems(snapshot: Snapshot): ConsistencyProblem[] {
  const problems: ConsistencyProblem[] = [];
  const report = (rule: ConsistencyRuleName, typeUrl: XdsTypeUrl, resource: string, detail: string): void => {
    problems.push({ rule, typeUrl, resource, message: `${kindOf(typeUrl)} "${resource}": ${detail}` });
  };
  const byName = {} as Record<XdsTypeUrl, Map<string, JsonObject>>;
  for (const typeUrl of XDS_PUSH_ORDER) {
    byName[typeUrl] = new Map();
    for (const { name, resource } of snapshot.resources[typeUrl] ?? []) {
      if (byName[typeUrl].has(name)) report(ConsistencyRule.DuplicateName, typeUrl, name, 'appears more than once');
      byName[typeUrl].set(name, resource);
      if (resource['@type'] !== typeUrl) report(ConsistencyRule.WrongType, typeUrl, name, `has @type ${String(resource['@type'])}`);
      const own = typeUrl === XdsType.Endpoint ? resource['cluster_name'] : resource['name'];
      if (own !== name) report(ConsistencyRule.NameMismatch, typeUrl, name, `is filed under "${name}" but names itself "${String(own)}"`);
    }
  }
  const clusters = byName[XdsType.Cluster];
  const assignments = byName[XdsType.Endpoint];
  const routes = byName[XdsType.Route];

  // CDS → EDS, exactly (go-control-plane): an unreferenced assignment is as wrong as a missing one.
  const edsNameOf = new Map<string, string>();
  for (const [name, cluster] of clusters) {
    if (cluster['type'] !== 'EDS') continue;
    const serviceName = str(obj(cluster['eds_cluster_config'])['service_name']);
    edsNameOf.set(name, serviceName === '' ? name : serviceName);
  }
  for (const [cluster, eds] of edsNameOf) {
    if (!assignments.has(eds)) report(ConsistencyRule.EdsMissing, XdsType.Cluster, cluster, `its ClusterLoadAssignment "${eds}" is not in the snapshot`);
  }
  const edsReferenced = new Set(edsNameOf.values());
  for (const name of assignments.keys()) {
    if (!edsReferenced.has(name)) report(ConsistencyRule.EdsUnreferenced, XdsType.Endpoint, name, 'no EDS Cluster refers to it');
  }
  for (const [name, assignment] of assignments) checkAssignment(assignment, (rule, detail) => report(rule, XdsType.Endpoint, name, detail));

  // LDS → RDS, exactly, through socket listeners' filter chains and proxyless api_listeners alike.
  const rdsReferenced = new Set<string>();
  const inlineRoutes: [string, JsonObject][] = [];
  for (const [name, listener] of byName[XdsType.Listener]) {
    for (const hcm of connectionManagers(listener)) {
      const filters = arr(hcm['http_filters']).map((f) => str(obj(obj(f)['typed_config'])['@type']));
      if (filters.indexOf(ROUTER_TYPE) !== filters.length - 1 || filters.filter((t) => t === ROUTER_TYPE).length !== 1) {
        report(ConsistencyRule.RouterNotLast, XdsType.Listener, name, 'the router must be the last HTTP filter, exactly once');
      }
      if ('route_config' in hcm) inlineRoutes.push([name, obj(hcm['route_config'])]);
      const rds = str(obj(hcm['rds'])['route_config_name']);
      if (rds === '') continue;
      rdsReferenced.add(rds);
      if (!routes.has(rds)) report(ConsistencyRule.RdsMissing, XdsType.Listener, name, `its RouteConfiguration "${rds}" is not in the snapshot`);
    }
  }
  for (const name of routes.keys()) {
    if (!rdsReferenced.has(name)) report(ConsistencyRule.RdsUnreferenced, XdsType.Route, name, 'no Listener refers to it');
  }

  // Routes → clusters: each named cluster exists and has an endpoint, and each split can carry traffic.
  const endpointCount = (cluster: string): number => {
    const resource = clusters.get(cluster);
    const assignment = resource?.['type'] === 'EDS' ? assignments.get(edsNameOf.get(cluster) ?? '') : obj(resource?.['load_assignment']);
    return arr(obj(assignment)['endpoints']).reduce<number>((sum, locality) => sum + arr(obj(locality)['lb_endpoints']).length, 0);
  };
  const checkRoutes = (typeUrl: XdsTypeUrl, name: string, routeConfig: JsonObject): void => {
    for (const [where, target] of routeTargets(routeConfig)) {
      const detail = (text: string): string => `${where} ${text}`;
      if (target.kind === 'weighted') {
        const total = target.clusters.reduce((sum, c) => sum + c.weight, 0);
        if (total <= 0 || total > UINT32_MAX) report(ConsistencyRule.RouteWeightZero, typeUrl, name, detail(`has weights summing to ${total}; the sum must be from 1 to ${UINT32_MAX}`));
      }
      const named = target.kind === 'weighted' ? target.clusters.map((c) => c.name) : [target.cluster];
      for (const cluster of named) {
        if (!clusters.has(cluster)) report(ConsistencyRule.RouteClusterMissing, typeUrl, name, detail(`sends traffic to Cluster "${cluster}", which is not in the snapshot`));
        else if (endpointCount(cluster) === 0) report(ConsistencyRule.RouteClusterEmpty, typeUrl, name, detail(`sends traffic to Cluster "${cluster}", which has no endpoints`));
      }
    }
  };
  for (const [name, routeConfig] of routes) checkRoutes(XdsType.Route, name, routeConfig);
  for (const [listener, routeConfig] of inlineRoutes) checkRoutes(XdsType.Listener, listener, routeConfig);
  return problems;
}

/** Throws ValidationError naming the first inconsistent resource (`field` is `<Kind>/<name>`), with every problem in the message. */
export function assertConsistent(snapshot: Snapshot): void {
  const problems = snapshotProblems(snapshot);
  const first = problems[0];
  if (!first) return;
  throw new ValidationError(`snapshot for proxy group ${snapshot.group} is inconsistent: ${describeProblems(problems)}`, problemField(first), first.rule);
}

/** The resource a problem is about, as a ValidationError's field: `<Kind>/<name>`. */
export function problemField(problem: ConsistencyProblem): string {
  return `${kindOf(problem.typeUrl)}/${problem.resource}`;
}

/** The first ten problems' messages, and how many more there are. */
export function describeProblems(problems: readonly ConsistencyProblem[]): string {
  const shown = problems.slice(0, 10).map((p) => p.message);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return `${shown.join('; ')}${more}`;
}

/** Priorities from 0 without gaps, a weight on every locality, each address once (gRPC NACKs each). */
function checkAssignment(assignment: JsonObject, report: (rule: ConsistencyRuleName, detail: string) => void): void {
  const priorities = new Set<number>();
  const addresses = new Set<string>();
  arr(assignment['endpoints']).forEach((value, index) => {
    const locality = obj(value);
    priorities.add(num(locality['priority']));
    if (num(locality['load_balancing_weight']) < 1) report(ConsistencyRule.LocalityWeightMissing, `endpoints[${index}] has no load_balancing_weight (gRPC drops such a locality)`);
    for (const lb of arr(locality['lb_endpoints'])) {
      const socket = obj(obj(obj(obj(lb)['endpoint'])['address'])['socket_address']);
      const address = `${str(socket['address'])}:${num(socket['port_value'])}`;
      if (addresses.has(address)) report(ConsistencyRule.DuplicateEndpoint, `endpoint ${address} appears more than once`);
      addresses.add(address);
    }
  });
  for (const priority of priorities) {
    if (priority > 0 && !priorities.has(priority - 1)) report(ConsistencyRule.PriorityGap, `has priority ${priority} but not ${priority - 1}`);
  }
}

/** The HttpConnectionManagers of a listener: its api_listener, its filter chains, its default chain. */
function connectionManagers(listener: JsonObject): JsonObject[] {
  const found: JsonObject[] = [];
  const api = obj(obj(listener['api_listener'])['api_listener']);
  if (api['@type'] === HCM_TYPE) found.push(api);
  const chains = [...arr(listener['filter_chains']), listener['default_filter_chain'] ?? null];
  for (const chain of chains) {
    for (const filter of arr(obj(chain)['filters'])) {
      const config = obj(obj(filter)['typed_config']);
      if (config['@type'] === HCM_TYPE) found.push(config);
    }
  }
  return found;
}

type RouteTarget = { kind: 'cluster'; cluster: string } | { kind: 'weighted'; clusters: { name: string; weight: number }[] };

function routeTargets(routeConfig: JsonObject): [string, RouteTarget][] {
  const targets: [string, RouteTarget][] = [];
  arr(routeConfig['virtual_hosts']).forEach((host, h) => {
    arr(obj(host)['routes']).forEach((route, r) => {
      const action = obj(obj(route)['route']);
      const where = `virtual_hosts[${h}].routes[${r}]`;
      if (typeof action['cluster'] === 'string') targets.push([where, { kind: 'cluster', cluster: action['cluster'] }]);
      if ('weighted_clusters' in action) {
        const clusters = arr(obj(action['weighted_clusters'])['clusters']).map((c) => ({ name: str(obj(c)['name']), weight: num(obj(c)['weight']) }));
        targets.push([where, { kind: 'weighted', clusters }]);
      }
    });
  });
  return targets;
}

function obj(value: JsonValue | undefined): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}
function arr(value: JsonValue | undefined): readonly JsonValue[] {
  return Array.isArray(value) ? value : [];
}
function str(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : '';
}
/** A number, or a wrapper written as `{ "value": n }`; anything else counts as 0. */
function num(value: JsonValue | undefined): number {
  if (typeof value === 'number') return value;
  const wrapped = obj(value)['value'];
  return typeof wrapped === 'number' ? wrapped : 0;
}
