/**
 * The stateless REST-xDS answer (docs/dataplane.md): one DiscoveryRequest and the group's snapshot
 * in, 304 or a DiscoveryResponse out. Every function instance computes the same versions from the
 * same snapshot, so any instance can answer any poll. The HTTP route (`POST /v3/discovery:*`),
 * reading the snapshot and recording the reported version (REST's only acknowledgement) are the
 * caller's; this is the whole of the protocol logic.
 */
import { ValidationError } from '../../domain/errors.js';
import type { ProxyGroup } from '../../domain/mesh.js';
import { namedVersion, type SnapshotPart } from '../../domain/snapshot-parts.js';
import { servicesNaming } from './service-part.js';
import { XdsType, type JsonObject, type Snapshot, type XdsTypeUrl } from './snapshot.js';

/** `POST /v3/discovery:<kind>` → the type it serves (the `google.api.http` annotations of the Fetch RPCs). */
export const DISCOVERY_PATH_TYPES: Readonly<Record<string, XdsTypeUrl>> = {
  clusters: XdsType.Cluster,
  endpoints: XdsType.Endpoint,
  listeners: XdsType.Listener,
  routes: XdsType.Route,
};

const KNOWN_TYPES: ReadonlySet<string> = new Set(Object.values(XdsType));

/** LDS and CDS answers always carry every resource (state of the world); EDS and RDS only those asked for. */
const FULL_STATE_TYPES: ReadonlySet<XdsTypeUrl> = new Set([XdsType.Listener, XdsType.Cluster]);

export interface DiscoveryNode {
  id: string;
  cluster: string;
}

export interface DiscoveryRequest {
  typeUrl: XdsTypeUrl;
  /** The version the node has applied; '' on its first poll. */
  versionInfo: string;
  resourceNames: readonly string[];
  /** Absent only when the body had no `node` (Envoy always sends it over REST). */
  node: DiscoveryNode | undefined;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: readonly JsonObject[];
  type_url: XdsTypeUrl;
}

export type DiscoveryAnswer = { status: 304 } | { status: 200; body: DiscoveryResponse };

/**
 * Reads a DiscoveryRequest from parsed JSON, in Envoy's snake_case or protojson's lowerCamelCase.
 * Throws ValidationError naming the field (`type_url`, `version_info`, `resource_names`, `node`).
 */
export function parseDiscoveryRequest(body: unknown): DiscoveryRequest {
  if (!isRecord(body)) throw new ValidationError('a DiscoveryRequest must be a JSON object', 'body', 'object');
  const typeUrl = field(body, 'type_url', 'typeUrl');
  if (typeof typeUrl !== 'string' || !KNOWN_TYPES.has(typeUrl)) {
    throw new ValidationError(`type_url must be one of ${[...KNOWN_TYPES].join(', ')}, got ${JSON.stringify(typeUrl) ?? 'nothing'}`, 'type_url', 'xds-type-url');
  }
  const versionInfo = field(body, 'version_info', 'versionInfo') ?? '';
  if (typeof versionInfo !== 'string') throw new ValidationError('version_info must be a string', 'version_info', 'string');
  const names = field(body, 'resource_names', 'resourceNames') ?? [];
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw new ValidationError('resource_names must be a list of strings', 'resource_names', 'string-list');
  }
  return { typeUrl: typeUrl as XdsTypeUrl, versionInfo, resourceNames: names, node: parseNode(body['node']) };
}

/**
 * 304 when the node already has the type's version; otherwise every resource of the type, or for
 * EDS and RDS those `resourceNames` asks for (all of them when it asks for none, as go-control-plane
 * does). No nonce: REST has one request outstanding at a time.
 */
export function answerDiscovery(request: DiscoveryRequest, snapshot: Snapshot): DiscoveryAnswer {
  const version = snapshot.versions[request.typeUrl];
  if (request.versionInfo === version) return { status: 304 };
  const wanted = new Set(request.resourceNames);
  const filter = !FULL_STATE_TYPES.has(request.typeUrl) && wanted.size > 0;
  const resources = snapshot.resources[request.typeUrl].filter((r) => !filter || wanted.has(r.name)).map((r) => r.resource);
  return { status: 200, body: { version_info: version, resources, type_url: request.typeUrl } };
}

/**
 * Whether a request is answered per resource, from the parts of the services that own what it
 * names (docs/dataplane.md "Incremental publishing"): EDS naming its clusters, which is how Envoy
 * asks over REST (one subscription per cluster). Its `version_info` is the named set's version, so
 * a change to one service sends a 200 to the subscriptions of that service's clusters only.
 */
export function answeredPerResource(request: DiscoveryRequest): boolean {
  return request.typeUrl === XdsType.Endpoint && request.resourceNames.length > 0;
}

/** The services whose parts hold what a per-resource request names. */
export function ownersOfNamed(request: DiscoveryRequest): string[] {
  return [...new Set(request.resourceNames.flatMap(servicesNaming))].sort();
}

/**
 * The per-resource answer from the owners' parts: 304 when the node's `version_info` is the named
 * set's version, else the named resources it has, with that version. `current` says whether the
 * node runs what is published of what it asks for.
 */
export function answerNamed(request: DiscoveryRequest, parts: readonly SnapshotPart[]): { answer: DiscoveryAnswer; current: boolean } {
  const names = new Set(request.resourceNames);
  const version = namedVersion(parts, request.typeUrl, names);
  if (request.versionInfo === version) return { answer: { status: 304 }, current: true };
  const resources = parts.flatMap((p) => (p.resources[request.typeUrl] ?? []).filter((r) => names.has(r.name))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { answer: { status: 200, body: { version_info: version, resources: resources.map((r) => r.resource), type_url: request.typeUrl } }, current: false };
}

/** parseDiscoveryRequest then answerDiscovery. */
export function discover(body: unknown, snapshot: Snapshot): DiscoveryAnswer {
  return answerDiscovery(parseDiscoveryRequest(body), snapshot);
}

/**
 * The Envoy proxy group a node belongs to: the group that lists `node.id` among its proxies; failing
 * that, the Envoy group named `node.cluster` (Envoy's `--service-cluster`), so an autoscaled fleet
 * with generated ids can join its group without listing each id. undefined: no group serves it.
 */
export function groupOfNode(node: DiscoveryNode, groups: readonly ProxyGroup[]): string | undefined {
  const envoyGroups = groups.filter((g) => g.kind === 'envoy');
  const byId = envoyGroups.find((g) => g.proxies.some((p) => p.nodeId === node.id));
  if (byId) return byId.name;
  return envoyGroups.find((g) => node.cluster !== '' && g.name === node.cluster)?.name;
}

function parseNode(value: unknown): DiscoveryNode | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw new ValidationError('node must be an object', 'node', 'object');
  const { id = '', cluster = '' } = value;
  if (typeof id !== 'string') throw new ValidationError('node.id must be a string', 'node.id', 'string');
  if (typeof cluster !== 'string') throw new ValidationError('node.cluster must be a string', 'node.cluster', 'string');
  return { id, cluster };
}

function field(body: Record<string, unknown>, snake: string, camel: string): unknown {
  return body[snake] ?? body[camel];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
