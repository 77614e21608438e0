/**
 * Published xDS snapshots, one per Envoy proxy group, and what each proxy reports running: the
 * desired state the discovery function serves (docs/architecture.md "Where config reaches the proxies").
 *
 * A published snapshot is a small HEAD per group (the per-type versions and how the resources are
 * stored) over immutable resource chunks keyed by their type's content version. A poll that is
 * current needs the HEAD alone: `head` is the one read a current poll makes. Chunks are written
 * before the HEAD that names them, so a reader that has a HEAD finds its chunks; the chunks a HEAD
 * no longer names are removed, but not before a grace period (the DynamoDB adapter's: at least one
 * hour) after the publish that replaced it, so read a HEAD's resources soon after reading the HEAD.
 *
 * Every method throws DependencyUnavailableError (retryable) when the store cannot be reached.
 */
import type { JsonObject } from '../domain/json.js';

/** A resource and the name xDS knows it by: engine/envoy/snapshot.ts `XdsResource`, restated (ports may not import the engine). */
export interface StoredResource {
  readonly name: string;
  readonly resource: JsonObject;
}

/** engine/envoy/snapshot.ts `Snapshot`, restated structurally: the engine's type is assignable to it. */
export interface SnapshotToPublish {
  readonly group: string;
  /** Per type URL, the type's resources (their order is kept). */
  readonly resources: Readonly<Record<string, readonly StoredResource[]>>;
  /** Per type URL, the content version of the type's resources. */
  readonly versions: Readonly<Record<string, string>>;
}

/** How one type of a published snapshot is stored. */
export interface PublishedType {
  version: string;
  /** How many chunks hold the type's resources (at least 1). */
  chunks: number;
  /** The size of the type's stored resources, in bytes of UTF-8 JSON. */
  bytes: number;
}

/**
 * What a group's HEAD says: the snapshot its proxies should run. An adapter may keep more in it
 * (where the chunks are): pass a HEAD back as `head` or `publish` returned it.
 */
export interface SnapshotHead {
  group: string;
  /** 1 for the group's first snapshot, then one more per publish: the HEAD's optimistic lock. */
  revision: number;
  publishedAt: string;
  /** Per type URL. */
  types: Readonly<Record<string, PublishedType>>;
}

export type PublishOutcome =
  /** Every type's version equals `basedOn`'s: nothing was written. */
  | { outcome: 'unchanged'; head: SnapshotHead }
  /** A new HEAD; `chunksWritten` counts chunks that did not exist before (0 when all did). */
  | { outcome: 'published'; head: SnapshotHead; chunksWritten: number };

/** One proxy's last report for one type. */
export interface ProxyAck {
  group: string;
  nodeId: string;
  typeUrl: string;
  /** The version the proxy runs, as it last reported it; '' when it runs none yet. */
  version: string;
  /** When `version` was first reported (the record changes only when it does). */
  at: string;
  /**
   * The last version a 200 answer handed this proxy, and when it was first handed. A proxy that was
   * served a version and keeps reporting another rejected it: Envoy only reports what it applied
   * (docs/dataplane.md, "a NACK over REST is implicit"). Absent: never served over REST.
   */
  served?: { version: string; at: string };
}

export interface AckReport {
  group: string;
  nodeId: string;
  typeUrl: string;
  version: string;
  at: string;
}

export interface SnapshotStore {
  /** The group's HEAD, read strongly consistently in one request; undefined when nothing was ever published. */
  head(group: string): Promise<SnapshotHead | undefined>;

  /**
   * Publishes `snapshot` over `basedOn`, the HEAD the caller read before building it (undefined:
   * none). Types whose version equals `basedOn`'s keep their chunks; the others' chunks are put
   * (write-once: a chunk that exists is left as it is, so a retry after a crash, or content that
   * comes back, writes no chunk twice), then the HEAD is replaced if it is still at
   * `basedOn.revision`. Every item stays below 350 KB: a type is split into as many chunks as it
   * needs, whatever the size of a single resource.
   *
   * After the HEAD write, the chunks of what `basedOn` named and the new HEAD does not (and of what
   * an earlier publish left so) are scheduled for removal after the grace period; content named
   * again is never removed. Failing to schedule it never fails the publish (a later publish, even an
   * 'unchanged' one, does it).
   *
   * Throws VersionConflictError (retryable: re-read the HEAD and the registry, rebuild, retry) when
   * another publish replaced the HEAD meanwhile; the chunks already written are harmless.
   * Throws InternalError when `basedOn` is another group's HEAD or a type has no version.
   */
  publish(snapshot: SnapshotToPublish, basedOn: SnapshotHead | undefined, at: string): Promise<PublishOutcome>;

  /**
   * The resources of one type of `head`, in the order they were published: every chunk, read by
   * key in parallel batches. Throws NotFoundError when `head` has no such type, InternalError when a
   * chunk `head` names is missing (the store was damaged, or `head` was replaced longer than the
   * grace period ago: chunks are never removed under the current HEAD).
   */
  resources(head: SnapshotHead, typeUrl: string): Promise<StoredResource[]>;

  /**
   * Records that `nodeId` reports running `version` of `typeUrl`: one conditional write that only
   * changes the record when the stored version differs, and none at all when this instance already
   * saw that version stored, so a proxy polling an unchanged version changes nothing and, after
   * its first poll, costs no write. Idempotent: 'unchanged' when it was recorded already.
   */
  recordAck(report: AckReport): Promise<'recorded' | 'unchanged'>;

  /**
   * Records that a 200 answer handed `nodeId` `report.version` of `report.typeUrl`, on the same
   * conditional terms as recordAck (only when the stored served version differs). Together with the
   * reported version this names a proxy that rejected a version (see ProxyAck.served).
   */
  recordServed(report: AckReport): Promise<'recorded' | 'unchanged'>;

  /** Every record of the group's proxies, read strongly consistently, by node id then type URL. */
  listAcks(group: string): Promise<ProxyAck[]>;
}
