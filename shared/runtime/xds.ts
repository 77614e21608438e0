/**
 * What the long-running ADS server (`crossfade xds-server`) is given: the engine's rules and the
 * use cases, which the CLI and the adapters may not import themselves (ARCHITECTURE.md), and, for
 * the store-backed mode, the snapshot store of the table the environment names (CROSSFADE_TABLE,
 * CROSSFADE_DYNAMODB_ENDPOINT: see runtime/deps.ts), built only when asked for.
 */
import { createDynamoDbStores } from '../adapters/dynamodb/stores.js';
import { systemClock } from '../adapters/system.js';
import { assertConsistent } from '../engine/envoy/consistency.js';
import { groupOfNode } from '../engine/envoy/discovery.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { AdsReportRecorder, PublishedSnapshotFollower, type AdsReport, type FollowDeps, type GroupPoll, type ServeSnapshot } from '../usecases/follow-published-snapshots.js';
import { tableFromEnv } from './deps.js';

export type { AdsReport, FollowDeps, GroupPoll, ServeSnapshot };

/** Following the published snapshots of the ADS groups, and storing what their nodes report. */
export interface StoreFollowing {
  /** The groups followed: the Envoy groups with `xds.api: ads`. */
  readonly groups: readonly string[];
  /** One poll of every group's HEAD; never throws. */
  poll(): Promise<GroupPoll[]>;
  /** Stores an ACK or NACK in the background, in order per node and type. */
  record(report: AdsReport): void;
  /** Resolves once every report recorded so far has been written (or its failure logged). */
  settled(): Promise<void>;
}

export function followStore(deps: FollowDeps, serve: ServeSnapshot): StoreFollowing {
  const follower = new PublishedSnapshotFollower(deps, serve);
  const recorder = new AdsReportRecorder(deps);
  return { groups: follower.groups, poll: () => follower.poll(), record: (report) => recorder.record(report), settled: () => recorder.settled() };
}

export function xdsServerDeps(env: Record<string, string | undefined>) {
  return {
    checkSnapshot: assertConsistent,
    groupOfNode,
    env,
    clock: systemClock,
    followStore,
    openSnapshotStore: (): SnapshotStore => createDynamoDbStores(tableFromEnv(env)).snapshots,
  };
}
