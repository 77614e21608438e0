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

export type ClaimOutcome = { claimed: true; record: IdempotencyRecord } | { claimed: false; record: IdempotencyRecord };

export interface IdempotencyStore {
  /**
   * Stores `record` if no record has its key. Exactly one of any number of concurrent claims of one
   * key wins (`claimed: true`); every other gets the winner's record (`claimed: false`).
   * Idempotent. Throws DependencyUnavailableError.
   */
  claim(record: IdempotencyRecord): Promise<ClaimOutcome>;

  /** undefined: the key was never used (or its record expired). */
  get(key: string): Promise<IdempotencyRecord | undefined>;

  /**
   * Deletes the record of `key` if it still holds the deployment `deploymentId`: a claim whose
   * creation was refused (the service is locked) must not make a later attempt replay a
   * deployment that never existed. Idempotent. Throws DependencyUnavailableError.
   */
  forget(key: string, deploymentId: string): Promise<void>;
}
