/**
 * What the long-running ADS server (`crossfade xds-server`) is given: the engine's rules and the
 * use cases, which the CLI and the adapters may not import themselves (docs/architecture.md), and, for
 * the store-backed mode, the snapshot store it follows, found only when asked for (openSnapshotStore).
 */
import { awsCredentialsAvailable, createTableHandle, type TableHandle } from '../adapters/dynamodb/client.js';
import { createDynamoDbStores, type Stores } from '../adapters/dynamodb/stores.js';
import { localDataDir, readStoreEndpoint, storeEndpointPath, type PublishedStoreEndpoint } from '../adapters/local-store-endpoint.js';
import { systemClock } from '../adapters/system.js';
import { ConfigError, DependencyUnavailableError } from '../domain/errors.js';
import { assertConsistent } from '../engine/envoy/consistency.js';
import { groupOfNode } from '../engine/envoy/discovery.js';
import type { PartStore } from '../ports/part-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { AdsReportRecorder, PublishedSnapshotFollower, type AdsReport, type FollowDeps, type GroupPoll, type ServeSnapshot } from '../usecases/follow-published-snapshots.js';
import { regionFromEnv, tableFromEnv } from './deps.js';

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

export interface OpenedSnapshotStore {
  snapshots: SnapshotStore;
  parts: PartStore;
  /** Which table, where, and why that one: for the start-up log. */
  description: string;
}

export function xdsServerDeps(env: Record<string, string | undefined>) {
  return {
    checkSnapshot: assertConsistent,
    groupOfNode,
    env,
    clock: systemClock,
    followStore,
    openSnapshotStore: () => openSnapshotStore(env),
  };
}

/**
 * The table the xds-server follows, the first that applies:
 * 1. CROSSFADE_DYNAMODB_ENDPOINT (DynamoDB Local, any local endpoint), as every entry point;
 * 2. the local stack's embedded store, as `npm start` publishes it in its data directory
 *    (CROSSFADE_DATA_DIR, default .crossfade/), with the static credentials the stack itself uses —
 *    beside `npm start` the local store is what is meant, even on a laptop with AWS credentials
 *    (a server in the cloud has no such file);
 * 3. DynamoDB itself, when the SDK's default chain finds AWS credentials.
 * None: ConfigError, one line saying what to set, rather than a server that polls nothing.
 */
export async function openSnapshotStore(env: Record<string, string | undefined>): Promise<OpenedSnapshotStore> {
  const endpoint = env['CROSSFADE_DYNAMODB_ENDPOINT'];
  const dataDir = localDataDir(env);
  const published = endpoint ? undefined : readStoreEndpoint(dataDir);
  if (published) return { ...publishedStores(dataDir, published), description: `table ${published.table} of the local stack at ${published.endpoint} (from ${published.path})` };
  if (endpoint || (await awsCredentialsAvailable(regionFromEnv(env)))) {
    const table = tableFromEnv(env);
    const { snapshots, parts } = createDynamoDbStores(table);
    return { snapshots, parts, description: `table ${table.tableName} ${endpoint ? `at ${endpoint}` : `in DynamoDB (${regionFromEnv(env)})`}` };
  }
  throw new ConfigError(
    `no table to follow: set CROSSFADE_DYNAMODB_ENDPOINT, run npm start (it publishes its store in ${storeEndpointPath(dataDir)}; CROSSFADE_DATA_DIR names another data directory), or give AWS credentials for DynamoDB`,
    'CROSSFADE_DYNAMODB_ENDPOINT',
  );
}

/** The embedded store's snapshots and parts. A call the store does not answer is made once more at the endpoint published now, when the stack was restarted on another port. */
function publishedStores(dataDir: string, first: PublishedStoreEndpoint): { snapshots: SnapshotStore; parts: PartStore } {
  let published = first;
  let table = localTable(first);
  let stores = createDynamoDbStores(table);
  const moved = (): boolean => {
    const now = readPublished(dataDir);
    if (now === undefined || (now.endpoint === published.endpoint && now.table === published.table)) return false;
    table.documents.destroy();
    [published, table] = [now, localTable(now)];
    stores = createDynamoDbStores(table);
    return true;
  };
  // Every call is a read or a conditional write: making it again is safe.
  const call = async <T>(use: (current: Stores) => Promise<T>): Promise<T> => {
    try {
      return await use(stores);
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError) || !moved()) throw error;
      return use(stores);
    }
  };
  return {
    snapshots: {
      head: (group) => call((s) => s.snapshots.head(group)),
      publish: (snapshot, basedOn, at) => call((s) => s.snapshots.publish(snapshot, basedOn, at)),
      resources: (head, typeUrl) => call((s) => s.snapshots.resources(head, typeUrl)),
      recordAck: (report) => call((s) => s.snapshots.recordAck(report)),
      recordServed: (report) => call((s) => s.snapshots.recordServed(report)),
      listAcks: (group) => call((s) => s.snapshots.listAcks(group)),
    },
    parts: {
      head: (group) => call((s) => s.parts.head(group)),
      parts: (head, services) => call((s) => s.parts.parts(head, services)),
      manifest: (head) => call((s) => s.parts.manifest(head)),
      allParts: (head) => call((s) => s.parts.allParts(head)),
      resources: (head, typeUrl) => call((s) => s.parts.resources(head, typeUrl)),
      publish: (group, change, basedOn, at) => call((s) => s.parts.publish(group, change, basedOn, at)),
    },
  };
}

function localTable(published: PublishedStoreEndpoint): TableHandle {
  return createTableHandle({ region: 'us-east-1', endpoint: published.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }, published.table);
}

/** A file being replaced or removed while read counts as not published (yet): the next failure reads it again. */
function readPublished(dataDir: string): PublishedStoreEndpoint | undefined {
  try {
    return readStoreEndpoint(dataDir);
  } catch {
    return undefined;
  }
}
