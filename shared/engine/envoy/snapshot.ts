/**
 * One proxy group's xDS snapshot: the Clusters, ClusterLoadAssignments, RouteConfigurations and
 * Listeners that make its proxies serve each service's split, in proto3-JSON (snake_case field
 * names as Envoy prints them, `@type` on every Any). Immutable, and versioned per type by content
 * hash, so every function instance that builds or reads it agrees on the version (docs/dataplane.md).
 *
 * Pure: the hash comes in as an argument (engine imports no packages, not even node:crypto).
 */
import { cloudNames, type CloudName } from '../../domain/cloud.js';
import { ValidationError } from '../../domain/errors.js';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import { checkSplit, type ClusterEndpoints, type Endpoint, type ProxyGroup, type RegisteredVersion, type Split } from '../../domain/mesh.js';

export const XdsType = {
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  Endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  Route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;
export type XdsTypeUrl = (typeof XdsType)[keyof typeof XdsType];

/** Make-before-break: a cluster and its endpoints exist before a route sends traffic to them (go-control-plane's ResponseType order). */
export const XDS_PUSH_ORDER: readonly XdsTypeUrl[] = [XdsType.Cluster, XdsType.Endpoint, XdsType.Listener, XdsType.Route];

export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/**
 * The socket listener and route configuration real Envoys use. The underscore keeps them apart from
 * the per-service api_listeners and route configurations: a service name can never hold one.
 */
export const ENVOY_LISTENER_NAME = 'crossfade_http';
export const ENVOY_ROUTE_NAME = 'crossfade_http';
export const DEFAULT_ENVOY_LISTENER_PORT = 10000;

export type { JsonObject, JsonValue };

/** A resource and the name xDS knows it by (Cluster.name, ClusterLoadAssignment.cluster_name, ...). */
export interface XdsResource {
  readonly name: string;
  readonly resource: JsonObject;
}

export interface Snapshot {
  readonly group: string;
  /** Per type, sorted by name. */
  readonly resources: Readonly<Record<XdsTypeUrl, readonly XdsResource[]>>;
  /** Per type: the first 16 hex digits of the hash of the type's JSON (see assembleSnapshot). */
  readonly versions: Readonly<Record<XdsTypeUrl, string>>;
}

/** A hex digest of `text` (sha256 in production; `createHash('sha256').update(text).digest('hex')`). */
export type ContentHash = (text: string) => string;

/**
 * Where Envoy fetches the EDS and RDS resources a snapshot refers to. `ads`: Envoy over ADS and
 * proxyless gRPC (which accepts nothing but `ads` or `self`). `rest`: Envoys polling the REST
 * function; Envoy rejects an `ads` source when it has no ADS stream, and gRPC cannot use REST, so a
 * REST group gets no api_listeners.
 */
export type ConfigSourceFlavour =
  | { kind: 'ads' }
  | { kind: 'rest'; xdsCluster: string; refreshDelaySeconds: number; requestTimeoutSeconds: number };

export interface ServiceMesh {
  service: string;
  /** Every registered version of the service: each gets a Cluster, whether or not the split names it. */
  versions: readonly RegisteredVersion[];
  split: Split;
}

export interface GroupMesh {
  group: Extract<ProxyGroup, { kind: 'envoy' }>;
  services: readonly ServiceMesh[];
}

export interface SnapshotOptions {
  hash: ContentHash;
  configSource?: ConfigSourceFlavour;
  envoyListenerPort?: number;
}

export function clusterName(service: string, version: string): string {
  return `${service}--${version}`;
}

/**
 * Throws ValidationError (field `services.<service>...`) when a split is invalid or a version is
 * filed under another service. Anything else that would leave a route without a cluster is for
 * `snapshotProblems` to name: the snapshot is built as asked, and checked before it is published.
 */
export function buildSnapshot(mesh: GroupMesh, options: SnapshotOptions): Snapshot {
  return assembleGroupSnapshot(mesh.group, [...mesh.services].map((service) => serviceResources(service, mesh.group, options)), options);
}

/** One service's share of a group's snapshot: its own resources, and its virtual host in the Envoy route. */
export interface ServiceResources {
  readonly service: string;
  readonly resources: Readonly<Record<XdsTypeUrl, readonly XdsResource[]>>;
  readonly envoyHost: JsonObject;
}

/** Builds one service's resources for `group`; throws ValidationError as buildSnapshot does. */
export function serviceResources({ service, versions, split }: ServiceMesh, group: GroupMesh['group'], options: Omit<SnapshotOptions, 'hash'>): ServiceResources {
  const source = options.configSource ?? { kind: 'ads' };
  checkSplit(split, `services.${service}.split`);
  const byType: Record<XdsTypeUrl, XdsResource[]> = { [XdsType.Cluster]: [], [XdsType.Endpoint]: [], [XdsType.Listener]: [], [XdsType.Route]: [] };
  for (const registered of versions) {
    if (registered.service !== service) {
      throw new ValidationError(`services.${service}.versions holds ${registered.service}/${registered.version}`, `services.${service}.versions`, 'same-service');
    }
    const name = clusterName(service, registered.version);
    byType[XdsType.Cluster].push({ name, resource: clusterResource(name, source) });
    byType[XdsType.Endpoint].push({ name, resource: loadAssignment(name, registered.clusters, group.cloud) });
  }
  const routes = [splitRoute(service, versions, split)];
  if (source.kind === 'ads') {
    byType[XdsType.Route].push({ name: service, resource: routeConfiguration(service, [{ name: service, domains: [service], routes }]) });
    byType[XdsType.Listener].push({ name: service, resource: apiListener(service) });
  }
  return { service, resources: byType, envoyHost: { name: service, domains: [service, `${service}.*`], routes } };
}

/**
 * The group's snapshot from its services' resources, with the Envoy listener and route that
 * every snapshot has. Sorted: the Envoy route's virtual hosts, and so its version, must not depend
 * on the order services come in.
 */
export function assembleGroupSnapshot(group: GroupMesh['group'], services: readonly ServiceResources[], options: SnapshotOptions): Snapshot {
  return assembleSnapshot(group.name, groupResources(services, options), options.hash);
}

/**
 * A snapshot of one service alone, unversioned and unsorted: what the consistency check needs to
 * tell whether the service's own resources break a rule, without hashing anything.
 */
export function serviceOnlySnapshot(group: GroupMesh['group'], service: ServiceResources, options: Omit<SnapshotOptions, 'hash'>): Snapshot {
  const versions = Object.fromEntries(XDS_PUSH_ORDER.map((typeUrl) => [typeUrl, ''])) as Record<XdsTypeUrl, string>;
  return { group: group.name, resources: groupResources([service], options), versions };
}

function groupResources(services: readonly ServiceResources[], options: Omit<SnapshotOptions, 'hash'>): Record<XdsTypeUrl, XdsResource[]> {
  const byType: Record<XdsTypeUrl, XdsResource[]> = { [XdsType.Cluster]: [], [XdsType.Endpoint]: [], [XdsType.Listener]: [], [XdsType.Route]: [] };
  const sorted = services.length > 1 ? [...services].sort((a, b) => compare(a.service, b.service)) : services;
  for (const { resources } of sorted) for (const typeUrl of XDS_PUSH_ORDER) byType[typeUrl].push(...resources[typeUrl]);
  const own = groupOwnResources(options, sorted.map((s) => s.envoyHost));
  for (const typeUrl of XDS_PUSH_ORDER) byType[typeUrl].push(...own[typeUrl]);
  return byType;
}

/**
 * What the group's snapshot holds whatever its services: the Envoy listener, and the Envoy route
 * with `hosts` as its virtual hosts (none: the shell the services' hosts are appended to).
 */
export function groupOwnResources(options: Omit<SnapshotOptions, 'hash'>, hosts: readonly JsonObject[] = []): Record<XdsTypeUrl, XdsResource[]> {
  const source = options.configSource ?? { kind: 'ads' };
  return {
    [XdsType.Cluster]: [],
    [XdsType.Endpoint]: [],
    [XdsType.Listener]: [{ name: ENVOY_LISTENER_NAME, resource: envoyListener(options.envoyListenerPort ?? DEFAULT_ENVOY_LISTENER_PORT, source) }],
    [XdsType.Route]: [{ name: ENVOY_ROUTE_NAME, resource: routeConfiguration(ENVOY_ROUTE_NAME, hosts) }],
  };
}

/** Sorts, versions and freezes resources into a snapshot. Checks nothing: see `snapshotProblems`. */
export function assembleSnapshot(group: string, resources: Readonly<Record<XdsTypeUrl, readonly XdsResource[]>>, hash: ContentHash): Snapshot {
  const sorted = {} as Record<XdsTypeUrl, readonly XdsResource[]>;
  const versions = {} as Record<XdsTypeUrl, string>;
  for (const typeUrl of XDS_PUSH_ORDER) {
    sorted[typeUrl] = [...resources[typeUrl]].sort((a, b) => compare(a.name, b.name));
    // Plain JSON, not key-sorted: every resource is built by this module with its keys in a fixed
    // order, so equal content prints equally, and sorting keys made building 3-5x slower (bench).
    // A caller assembling resources of its own must keep its key order stable the same way.
    versions[typeUrl] = hash(JSON.stringify(sorted[typeUrl].map((r) => r.resource))).slice(0, 16);
  }
  return freezeSnapshot({ group, resources: sorted, versions });
}

function configSource(source: ConfigSourceFlavour): JsonObject {
  if (source.kind === 'ads') return { ads: {}, resource_api_version: 'V3' };
  return {
    api_config_source: {
      api_type: 'REST',
      transport_api_version: 'V3',
      cluster_names: [source.xdsCluster],
      refresh_delay: `${source.refreshDelaySeconds}s`,
      request_timeout: `${source.requestTimeoutSeconds}s`,
    },
    resource_api_version: 'V3',
  };
}

function clusterResource(name: string, source: ConfigSourceFlavour): JsonObject {
  return {
    '@type': XdsType.Cluster,
    name,
    type: 'EDS',
    connect_timeout: '5s',
    lb_policy: 'ROUND_ROBIN',
    eds_cluster_config: { service_name: name, eds_config: configSource(source) },
    // Envoy ignores locality weights without it (endpoint_components.proto); gRPC ignores the field.
    common_lb_config: { locality_weighted_lb_config: {} },
  };
}

interface Locality {
  cloud: CloudName;
  region: string;
  zone: string | null;
  endpoints: Endpoint[];
}

/**
 * One locality per (cloud, region, zone). Priority 0 is the group's own cloud, so its proxies stay
 * in their cloud while it has endpoints and fail over to the other when it has none; when the own
 * cloud has no endpoints for this version the other cloud moves up to 0 (gRPC NACKs priority gaps).
 * `load_balancing_weight` is the endpoint count, always set: gRPC drops a locality without one.
 */
function loadAssignment(name: string, clusters: readonly ClusterEndpoints[], ownCloud: CloudName): JsonObject {
  const localities = new Map<string, Locality>();
  for (const cluster of clusters) {
    for (const endpoint of cluster.endpoints) {
      const key = JSON.stringify([cluster.cloud, cluster.region, endpoint.zone]);
      const locality = localities.get(key) ?? { cloud: cluster.cloud, region: cluster.region, zone: endpoint.zone, endpoints: [] };
      locality.endpoints.push(endpoint);
      localities.set(key, locality);
    }
  }
  const present = new Set([...localities.values()].map((l) => l.cloud));
  const cloudsByPreference = [ownCloud, ...cloudNames.filter((c) => c !== ownCloud)].filter((c) => present.has(c));
  const priorityOf = (cloud: CloudName): number => cloudsByPreference.indexOf(cloud);
  const ordered = [...localities.values()].sort(
    (a, b) => priorityOf(a.cloud) - priorityOf(b.cloud) || compare(a.region, b.region) || compare(a.zone ?? '', b.zone ?? ''),
  );
  return {
    '@type': XdsType.Endpoint,
    cluster_name: name,
    ...listField('endpoints', ordered.map((l) => ({
      locality: { region: `${l.cloud}:${l.region}`, ...(l.zone === null ? {} : { zone: l.zone }) },
      priority: priorityOf(l.cloud),
      load_balancing_weight: l.endpoints.length,
      lb_endpoints: [...l.endpoints]
        .sort((a, b) => compare(a.address, b.address) || a.port - b.port)
        .map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } })),
    }))),
  };
}

/**
 * The split as `weighted_clusters`, weights in percent. A version at 0% stays in the route while it
 * has endpoints: gRPC subscribes only to clusters a route names, so this is what warms the canary's
 * cluster before it gets traffic. Envoy and gRPC both accept a 0 weight; only the sum must be > 0.
 */
function splitRoute(service: string, versions: readonly RegisteredVersion[], split: Split): JsonObject {
  const hasEndpoints = new Set(versions.filter((v) => v.clusters.some((c) => c.endpoints.length > 0)).map((v) => v.version));
  const clusters = Object.entries(split)
    .filter(([version, percent]) => percent > 0 || hasEndpoints.has(version))
    .sort(([a], [b]) => compare(a, b))
    .map(([version, percent]) => ({ name: clusterName(service, version), weight: percent }));
  return { match: { prefix: '/' }, route: { weighted_clusters: { clusters } } };
}

function routeConfiguration(name: string, virtualHosts: readonly JsonObject[]): JsonObject {
  return { '@type': XdsType.Route, name, ...listField('virtual_hosts', virtualHosts) };
}

function connectionManager(statPrefix: string, routeName: string, source: ConfigSourceFlavour, extra: JsonObject = {}): JsonObject {
  return {
    '@type': HCM_TYPE,
    stat_prefix: statPrefix,
    ...extra,
    rds: { route_config_name: routeName, config_source: configSource(source) },
    // The router must be the last filter, and appear once (gRPC NACKs anything else).
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } }],
  };
}

/** Proxyless gRPC: the listener name is the `xds:///<service>` target (the default name template is `%s`). */
function apiListener(service: string): JsonObject {
  return { '@type': XdsType.Listener, name: service, api_listener: { api_listener: connectionManager(service, service, { kind: 'ads' }) } };
}

/**
 * Real Envoys: one socket listener and one route configuration with a virtual host per service, the
 * Envoy norm (one RDS subscription, Host picks the service). The port is stripped before matching,
 * so `checkout:10000` finds `checkout`; `checkout.*` takes `checkout.<namespace>.svc...` too.
 */
function envoyListener(port: number, source: ConfigSourceFlavour): JsonObject {
  const hcm = connectionManager(ENVOY_LISTENER_NAME, ENVOY_ROUTE_NAME, source, { codec_type: 'AUTO', strip_any_host_port: true });
  return {
    '@type': XdsType.Listener,
    name: ENVOY_LISTENER_NAME,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] }],
  };
}

/** proto3 JSON has no empty lists (Envoy prints none, and they would not survive a round trip through the protos). */
function listField(key: string, values: readonly JsonValue[]): JsonObject {
  return values.length === 0 ? {} : { [key]: [...values] };
}

/** Code-unit order, the same in every locale and every instance. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Freezes the snapshot, its maps and lists, and each resource object, but not every object inside
 * a resource: freezing all of them took a fifth of a 10,000-service build (bench), and the types
 * are read-only all the way down, so the compiler guards the rest.
 */
function freezeSnapshot(snapshot: Snapshot): Snapshot {
  for (const list of Object.values(snapshot.resources)) {
    for (const entry of list) Object.freeze(Object.freeze(entry).resource);
    Object.freeze(list);
  }
  Object.freeze(snapshot.resources);
  Object.freeze(snapshot.versions);
  return Object.freeze(snapshot);
}
