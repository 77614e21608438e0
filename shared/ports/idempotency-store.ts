import type { Deployment } from '../domain/deployment.js';

/**
 * The first answer given for an idempotency key (docs/api.md: "the same key with the same body replays
 * the original answer"). It keeps the created deployment whole, so a replay can finish a creation
 * that crashed between writing this record and writing the deployment.
 */
export interface IdempotencyRecord {
  key: string;
  /** sha256 of the canonical request body: a different body under the same key is refused. */
  requestHash: string;
  deployment: Deployment;
  createdAt: string;
  /** Epoch seconds after which the store may forget the record (DynamoDB TTL). */
  expiresAtEpochSeconds: number;
}

/**
 * A key canceled before any creation claimed it (docs/api.md `POST /v1/deployments/by-key/{key}/cancel`):
 * Spinnaker cancels a stage by the key its create carries, and the create may still be on its way.
 * A creation that finds it starts nothing.
 */
export interface IdempotencyTombstone {
  kind: 'canceled';
  key: string;
  canceledAt: string;
  canceledBy: string;
  reason: string | null;
  expiresAtEpochSeconds: number;
}

/** What a key holds: a creation's first answer, or a cancel that came first. */
export type IdempotencyEntry = IdempotencyRecord | IdempotencyTombstone;

export function isTombstone(entry: IdempotencyEntry): entry is IdempotencyTombstone {
  return 'kind' in entry && entry.kind === 'canceled';
}

export type ClaimOutcome<T extends IdempotencyEntry = IdempotencyEntry> = { claimed: true; record: T } | { claimed: false; record: IdempotencyEntry };

export interface IdempotencyStore {
  /**
   * Stores `record` (a creation's, or a tombstone) if no entry has its key. Exactly one of any
   * number of concurrent claims of one key wins (`claimed: true`); every other gets the winner's
   * entry (`claimed: false`). Idempotent. Throws DependencyUnavailableError.
   */
  claim<T extends IdempotencyEntry>(record: T): Promise<ClaimOutcome<T>>;

  /** undefined: the key was never used (or its entry expired). */
  get(key: string): Promise<IdempotencyEntry | undefined>;

  /**
   * Deletes the record of `key` if it still holds the deployment `deploymentId` (never a
   * tombstone): a claim whose creation was refused (the service is locked) must not make a later
   * attempt replay a deployment that never existed, and a cancel by key replaces the claim of a
   * creation that died before writing its deployment. Idempotent. Throws DependencyUnavailableError.
   */
  forget(key: string, deploymentId: string): Promise<void>;
}
