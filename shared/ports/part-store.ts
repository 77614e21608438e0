/**
 * Published xDS snapshots stored per service (docs/dataplane.md "Incremental publishing"): the
 * layout that lets a step, a registration or a deregistration store only the parts of the
 * services it changed (domain/snapshot-parts.ts), with the same number of requests whatever the
 * size of the registry.
 *
 * A group's HEAD names, through a fixed number of small manifest buckets, the part of every
 * service; parts and buckets are immutable and keyed by their content, so a reader holding a HEAD
 * reads exactly that HEAD's snapshot however many publishes happen meanwhile, and the HEAD write
 * is the only moment a proxy's view changes: every HEAD a publish writes names a whole, checked
 * snapshot. What a HEAD no longer names is removed after a grace period (the adapter's: at least
 * one hour), so read a HEAD's parts soon after reading it.
 *
 * Every method throws DependencyUnavailableError (retryable) when the store cannot be reached.
 */
import type { SnapshotPart } from '../domain/snapshot-parts.js';
import type { StoredResource } from './snapshot-store.js';

export interface PartsHead {
  group: string;
  /** 1 for the group's first publish, then one more per publish: the HEAD's optimistic lock. */
  revision: number;
  publishedAt: string;
  /** Per type URL, the XOR of every part's hash (domain/snapshot-parts.ts `versionsOf`). */
  versions: Readonly<Record<string, string>>;
}

export interface PartsChange {
  /** The group's own part (GROUP_PART), given at every publish; stored only when its key changed. */
  groupPart: SnapshotPart;
  /** Parts that replace their service's part (a part whose key is the stored one changes nothing). */
  put: readonly SnapshotPart[];
  /** Services whose part is removed (nothing happens for one without a part). */
  remove: readonly string[];
}

export type PartsPublishOutcome =
  /** Every part was already the stored one: nothing was written. */
  | { outcome: 'unchanged'; head: PartsHead }
  /** A new HEAD; `partsWritten` counts parts stored that did not exist before. */
  | { outcome: 'published'; head: PartsHead; partsWritten: number };

export interface PartStore {
  /** The group's HEAD, read strongly consistently in one request; undefined when nothing was ever published. */
  head(group: string): Promise<PartsHead | undefined>;

  /**
   * The parts `head` holds for `services` (GROUP_PART may be named), reading only their buckets
   * and parts; a service without a part is absent from the answer. Throws InternalError when an
   * item the HEAD names is missing (see the grace period above).
   */
  parts(head: PartsHead, services: readonly string[]): Promise<Map<string, SnapshotPart>>;

  /** Every service that has a part under `head`, with its part's key: the buckets alone are read. */
  manifest(head: PartsHead): Promise<Map<string, string>>;

  /** Every part of `head`, the group's own included: what a whole type is put together from. */
  allParts(head: PartsHead): Promise<SnapshotPart[]>;

  /**
   * The resources of one type of `head`, sorted by name, as its parts make them
   * (domain/snapshot-parts.ts `assembleType`). Throws NotFoundError when `head` has no such type.
   */
  resources(head: PartsHead, typeUrl: string): Promise<StoredResource[]>;

  /**
   * Applies `change` over `basedOn` (the HEAD the caller read before building the parts; undefined:
   * none): stores the new parts and the buckets that changed (write-once; a part that exists is
   * claimed again, never rewritten), then replaces the HEAD if it is still at `basedOn.revision`,
   * with the versions updated from the replaced and new parts alone. Afterwards the items the new
   * HEAD no longer names expire after the grace period (content named again is never removed).
   * Requests depend on the size of the change, not on how many services the group has.
   *
   * Throws VersionConflictError (retryable: re-read the HEAD and the registry, rebuild, retry) when
   * another publish replaced the HEAD meanwhile; the items already written are harmless.
   * Throws InternalError when `basedOn` is another group's HEAD.
   */
  publish(group: string, change: PartsChange, basedOn: PartsHead | undefined, at: string): Promise<PartsPublishOutcome>;
}
