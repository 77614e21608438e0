/**
 * A proxy group's xDS snapshot cut into parts, one per service, so that a change to one service
 * stores, versions and serves only that service's resources (docs/dataplane.md "Incremental
 * publishing"). The engine decides what a part holds (engine/envoy/service-part.ts); this module is
 * the shape every layer shares, and the two rules that must be the same wherever they run: how a
 * type's resources are put together from parts, and how versions combine.
 *
 * - A part holds whole resources of its own (a service's Clusters, ClusterLoadAssignments, and
 *   over ADS its RouteConfiguration and api_listener), and fragments: pieces of a resource the
 *   group owns, such as its virtual host in the Envoy route `crossfade_http`. The group's own part
 *   (GROUP_PART) holds those group resources' shells.
 * - Every resource and fragment has an element hash (16 hex digits of the content hash of its
 *   JSON); a part's hash per type is the XOR of its elements', and a type's version is the XOR of
 *   every part's. XOR is order-free and undoes itself, so replacing one part updates the version
 *   from the old and new parts alone (no other part is read), and equal content always has the
 *   same version whoever computes it, incrementally or from the whole registry.
 *
 * Pure: the content hash comes in as an argument.
 */
import type { JsonObject, JsonValue } from './json.js';

/** The part holding the group's own resources; no service name can be it (names.ts: no '_'). */
export const GROUP_PART = '_group';

/** The XOR of nothing: the version of a type no part has anything of. */
export const EMPTY_HASH = '0000000000000000';

/** A resource of a part, with its element hash. */
export interface PartResource {
  readonly name: string;
  readonly resource: JsonObject;
  readonly hash: string;
}

/** A piece of a group resource: `value` is appended to the list `field` of resource `resource` (its shell is in the group part). */
export interface PartFragment {
  readonly typeUrl: string;
  readonly resource: string;
  readonly field: string;
  readonly value: JsonObject;
  readonly hash: string;
}

export interface SnapshotPart {
  /** A service, or GROUP_PART. */
  readonly service: string;
  /** 32 hex digits of the content hash of the part: equal content, equal key (parts are stored write-once under it). */
  readonly key: string;
  /** Per type URL, the XOR of the element hashes of the part's resources and fragments of that type. */
  readonly hashes: Readonly<Record<string, string>>;
  /** Per type URL, sorted by name. */
  readonly resources: Readonly<Record<string, readonly PartResource[]>>;
  /** In a fixed order (the engine's). */
  readonly fragments: readonly PartFragment[];
}

export type ContentHash = (text: string) => string;

/** The element hash of a resource of `typeUrl`. */
export function resourceHash(hash: ContentHash, typeUrl: string, resource: JsonObject): string {
  return hash(`${typeUrl}\n${JSON.stringify(resource)}`).slice(0, 16);
}

/** The element hash of a fragment of group resource `resource`. */
export function fragmentHash(hash: ContentHash, typeUrl: string, resource: string, value: JsonObject): string {
  return hash(`${typeUrl}\n${resource}\n${JSON.stringify(value)}`).slice(0, 16);
}

/** XOR of 16-hex-digit hashes (two 32-bit halves: no BigInt on the hot path). */
export function xorHashes(hashes: Iterable<string>): string {
  let high = 0;
  let low = 0;
  for (const h of hashes) {
    high = (high ^ parseInt(h.slice(0, 8), 16)) >>> 0;
    low = (low ^ parseInt(h.slice(8, 16), 16)) >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/** A part with its per-type hashes and its key computed from its resources and fragments. */
export function sealPart(hash: ContentHash, service: string, typeUrls: readonly string[], resources: Readonly<Record<string, readonly PartResource[]>>, fragments: readonly PartFragment[]): SnapshotPart {
  const hashes: Record<string, string> = {};
  for (const typeUrl of typeUrls) {
    hashes[typeUrl] = xorHashes([...(resources[typeUrl] ?? []).map((r) => r.hash), ...fragments.filter((f) => f.typeUrl === typeUrl).map((f) => f.hash)]);
  }
  const key = hash(JSON.stringify([service, typeUrls.map((t) => (resources[t] ?? []).map((r) => r.hash)), fragments.map((f) => f.hash)])).slice(0, 32);
  return { service, key, hashes, resources, fragments };
}

/** Per type URL, the XOR of every part's hash: the versions of the snapshot the parts make. */
export function versionsOf(parts: Iterable<Pick<SnapshotPart, 'hashes'>>, typeUrls: readonly string[]): Record<string, string> {
  const all = [...parts];
  return Object.fromEntries(typeUrls.map((typeUrl) => [typeUrl, xorHashes(all.map((p) => p.hashes[typeUrl] ?? EMPTY_HASH))]));
}

/**
 * The resources of one type the parts make, sorted by name: every part's own resources, and each
 * group resource's shell with its fragments appended in service order (a list field left out when
 * empty, as proto3 JSON prints it).
 */
export function assembleType(parts: readonly SnapshotPart[], typeUrl: string): { name: string; resource: JsonObject }[] {
  const ordered = [...parts].sort((a, b) => compare(a.service, b.service));
  const out: { name: string; resource: JsonObject }[] = [];
  const shells = new Map<string, JsonObject>();
  for (const part of ordered) {
    for (const r of part.resources[typeUrl] ?? []) {
      if (part.service === GROUP_PART) shells.set(r.name, r.resource);
      else out.push({ name: r.name, resource: r.resource });
    }
  }
  const lists = new Map<string, Map<string, JsonValue[]>>();
  for (const part of ordered) {
    for (const f of part.fragments) {
      if (f.typeUrl !== typeUrl) continue;
      const fields = lists.get(f.resource) ?? new Map<string, JsonValue[]>();
      fields.set(f.field, [...(fields.get(f.field) ?? []), f.value]);
      lists.set(f.resource, fields);
    }
  }
  for (const [name, shell] of shells) {
    const fields = Object.fromEntries([...(lists.get(name) ?? new Map<string, JsonValue[]>())].filter(([, values]) => values.length > 0));
    out.push({ name, resource: { ...shell, ...fields } });
  }
  return out.sort((a, b) => compare(a.name, b.name));
}

/**
 * The version of a set of named resources of one type (a REST EDS or RDS request naming them):
 * the XOR of their element hashes, fragments included for a group resource. Resources no part
 * has are left out. Asking for every resource of the type gives the type's version.
 */
export function namedVersion(parts: readonly SnapshotPart[], typeUrl: string, names: ReadonlySet<string>): string {
  const hashes: string[] = [];
  for (const part of parts) {
    for (const r of part.resources[typeUrl] ?? []) if (names.has(r.name)) hashes.push(r.hash);
    for (const f of part.fragments) if (f.typeUrl === typeUrl && names.has(f.resource)) hashes.push(f.hash);
  }
  return xorHashes(hashes);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
