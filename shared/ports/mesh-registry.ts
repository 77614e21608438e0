import type { DeclaredDependencies } from '../domain/dependencies.js';
import type { GroupSplit, RegisteredVersion } from '../domain/mesh.js';

/** Everything the registry holds about one service: read in one strongly consistent query. */
export interface ServiceState {
  service: string;
  versions: RegisteredVersion[];
  splits: GroupSplit[];
}

/**
 * The mesh registry: service → version → cluster → endpoints, and per proxy group the split.
 * Every write is conditional on the revision the caller read, so two writers never silently
 * overwrite each other. All methods throw DependencyUnavailableError (retryable) when the store
 * cannot be reached.
 */
export interface MeshRegistry {
  /** undefined: nothing is registered for the service. */
  getService(service: string): Promise<ServiceState | undefined>;

  /**
   * Stores `version` if the stored registration is at `version.revision - 1` (0: none stored).
   * Throws VersionConflictError (retryable: re-read and retry) otherwise. Not idempotent by
   * itself: callers compare content first and skip writes that change nothing.
   */
  putVersion(version: RegisteredVersion): Promise<void>;

  /**
   * Deletes the registration if it is at `expectedRevision`. Idempotent: 'absent' when it is
   * already gone. Throws VersionConflictError when it changed since it was read.
   */
  deleteVersion(service: string, version: string, expectedRevision: number): Promise<'deleted' | 'absent'>;

  /** Stores `split` if the stored one is at `split.revision - 1` (0: none). Throws VersionConflictError otherwise. */
  putSplit(split: GroupSplit): Promise<void>;

  /** Every service with a registration, in name order (reconciliation and snapshot building). */
  listServices(): Promise<string[]>;

  /**
   * One shard of the registry: up to `limit` services whose names come after `after` (undefined:
   * from the first), in name order; `more`: whether any service comes after the last one returned.
   * Reads about `limit` services' worth of index entries, whatever the registry's size.
   */
  listServicesAfter(after: string | undefined, limit: number): Promise<{ services: string[]; more: boolean }>;

  /** The services `service` declared it calls, read strongly consistently in one request; undefined: it never declared any. */
  getDependencies(service: string): Promise<DeclaredDependencies | undefined>;

  /**
   * Stores `declared` if the stored declaration is at `declared.revision - 1` (0: none stored).
   * Throws VersionConflictError (retryable: re-read and retry) otherwise. Callers compare the
   * lists first and skip a write that changes nothing, which makes a repeated declaration idempotent.
   */
  putDependencies(declared: DeclaredDependencies): Promise<void>;
}
