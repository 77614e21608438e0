/**
 * `crossfade xds-server [--port 18000] [--host 127.0.0.1] [--poll-seconds 2] [--snapshot-file <path>]`:
 * the gRPC ADS server for Envoy over gRPC and proxyless gRPC clients (shared/adapters/xds/ads-server.ts).
 * Nodes map to groups through crossfade.yaml's `proxyGroups` (CROSSFADE_CONFIG).
 *
 * By default it follows the snapshots the functions publish (shared/usecases/publish-snapshots.ts)
 * for every Envoy group with `xds.api: ads`: in the table CROSSFADE_DYNAMODB_ENDPOINT names, in
 * DynamoDB when there are AWS credentials, else in the embedded store `npm start` publishes in its
 * data directory (shared/runtime/xds.ts `openSnapshotStore`); with none of these it exits at once
 * saying what to set. Every `--poll-seconds` it reads each group's HEAD (one GetItem per group)
 * and, when it moved, the resources of the types that changed, and serves them once checked.
 * The nodes' ACKs and NACKs are stored beside the REST-polling Envoys' (GET /v1/services). A store
 * that cannot be read is retried at every poll and logged when it stops and when it starts
 * answering again: the last good snapshot stays served.
 *
 * With `--snapshot-file` it serves the snapshots of a JSON file instead: an array of what engine
 * `buildSnapshot` returns (`{ group, resources, versions }`), each checked before it is served.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../shared/adapters/config-file.js';
import { createJsonLogger } from '../shared/adapters/json-logger.js';
import { createAdsServer, type AdsServer, type ServedSnapshot } from '../shared/adapters/xds/ads-server.js';
import type { ProxyGroup } from '../shared/domain/mesh.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import type { PartStore } from '../shared/ports/part-store.js';
import type { SnapshotStore } from '../shared/ports/snapshot-store.js';
import type { FollowDeps, ServeSnapshot, StoreFollowing } from '../shared/runtime/xds.js';

export const XDS_SERVER_USAGE = `usage: crossfade xds-server [--port 18000] [--host 127.0.0.1] [--poll-seconds 2] [--snapshot-file <path>]`;

/**
 * The engine's rules and the use cases, passed in by the composition root (shared/runtime/xds.ts):
 * the CLI may not import the engine or the use cases. `checkSnapshot` is engine `assertConsistent`;
 * `groupOfNode` is engine `groupOfNode`.
 */
export interface XdsServerDeps {
  checkSnapshot(snapshot: ServedSnapshot): void;
  groupOfNode(node: { id: string; cluster: string }, groups: readonly ProxyGroup[]): string | undefined;
  env: Record<string, string | undefined>;
  clock: Clock;
  followStore(deps: FollowDeps, serve: ServeSnapshot): StoreFollowing;
  /** The snapshot store to follow and what it is (runtime/xds.ts says how it is found); called only in the store-backed mode. ConfigError when there is none. */
  openSnapshotStore(): Promise<{ snapshots: SnapshotStore; parts: PartStore; description: string }>;
}

export interface RunningXdsServer {
  server: AdsServer;
  host: string;
  port: number;
  /** Stops polling (when following the store), ends the streams, stops the server, lets the ACK writes finish. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the server. Throws on bad arguments, a bad file or a refused snapshot, or a configuration with no ADS group to follow. */
export async function runXdsServer(args: string[], deps: XdsServerDeps): Promise<RunningXdsServer> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string', default: '18000' }, host: { type: 'string', default: '127.0.0.1' }, 'poll-seconds': { type: 'string', default: '2' }, 'snapshot-file': { type: 'string' } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got ${values.port}`);
  const pollSeconds = Number(values['poll-seconds']);
  if (!Number.isFinite(pollSeconds) || pollSeconds < 0.1 || pollSeconds > 3600) throw new Error(`--poll-seconds must be a number from 0.1 to 3600, got ${values['poll-seconds']}`);
  const { config, source } = loadConfig(deps.env, { required: false });
  const logger = createJsonLogger({ level: 'info' });
  const file = values['snapshot-file'];
  if (!file) {
    const store = await deps.openSnapshotStore();
    logger.info('xds server store', { store: store.description });
    return startStoreBackedXdsServer({ ...deps, snapshots: store.snapshots, parts: store.parts, proxyGroups: config.proxyGroups, logger, host: values.host, port, pollSeconds, configSource: source });
  }
  const snapshots = readSnapshots(file);
  const server = createAdsServer({
    host: values.host,
    port,
    rules: { checkSnapshot: (s) => deps.checkSnapshot(s), groupOfNode: (node) => deps.groupOfNode(node, config.proxyGroups) },
    onAck: (ack) => logger.info('xds ACK', { ...ack }),
    logger,
  });
  // Checked before the port opens: a bad file never serves anything.
  for (const snapshot of snapshots) server.setSnapshot(snapshot.group, snapshot);
  const bound = await server.start();
  return { server, ...bound, stop: () => server.stop() };
}

export interface StoreBackedXdsServerDeps extends Pick<XdsServerDeps, 'checkSnapshot' | 'groupOfNode' | 'clock' | 'followStore'> {
  snapshots: SnapshotStore;
  parts: PartStore;
  proxyGroups: readonly ProxyGroup[];
  logger: Logger;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  pollSeconds: number;
  /** Named in the error when no group is served over ADS. */
  configSource?: string;
}

/**
 * The store-backed mode, from its dependencies (no environment, no process): polls once before the
 * port opens (a failed read only delays the first snapshot), then every `pollSeconds`.
 */
export async function startStoreBackedXdsServer(deps: StoreBackedXdsServerDeps): Promise<RunningXdsServer> {
  const { logger } = deps;
  // The follower serves into the server, which is created next (it first polls after both exist).
  const follow = deps.followStore({ snapshots: deps.snapshots, parts: deps.parts, proxyGroups: deps.proxyGroups, clock: deps.clock, logger }, (group, snapshot) => server.setSnapshot(group, snapshot));
  const server = createAdsServer({
    host: deps.host,
    port: deps.port,
    rules: { checkSnapshot: (s) => deps.checkSnapshot(s), groupOfNode: (node) => deps.groupOfNode(node, deps.proxyGroups) },
    onAck: (ack) => follow.record(ack),
    onNack: (nack) => {
      logger.warn('xds NACK stored', { node: nack.nodeId, group: nack.group, typeUrl: nack.typeUrl, runs: nack.version, rejected: nack.rejectedVersion, error_detail: nack.message });
      follow.record({ nodeId: nack.nodeId, group: nack.group, typeUrl: nack.typeUrl, version: nack.version, rejected: { version: nack.rejectedVersion, message: nack.message } });
    },
    logger,
  });
  if (follow.groups.length === 0) {
    throw new Error(`no Envoy proxy group is served over ADS (proxyGroups[].xds.api: ads) in ${deps.configSource ?? 'the configuration'}: nothing to follow`);
  }
  logger.info('xds server following the published snapshots', { groups: follow.groups, pollSeconds: deps.pollSeconds });
  await follow.poll();
  const bound = await server.start();

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let polling: Promise<unknown> = Promise.resolve();
  const schedule = (): void => {
    timer = setTimeout(() => {
      polling = follow.poll().finally(() => {
        if (!stopped) schedule();
      });
    }, deps.pollSeconds * 1000);
  };
  schedule();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      stopped = true;
      clearTimeout(timer);
      await polling;
      await server.stop();
      await follow.settled();
    })());
  return { server, ...bound, stop };
}

function readSnapshots(path: string): ServedSnapshot[] {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`--snapshot-file ${path}: ${(error as Error).message}`);
  }
  const list = Array.isArray(document) ? document : [document];
  return list.map((item, index) => {
    const s = item as Partial<ServedSnapshot> | null;
    if (!s || typeof s.group !== 'string' || typeof s.resources !== 'object' || typeof s.versions !== 'object' || !s.resources || !s.versions) {
      throw new Error(`--snapshot-file ${path}: [${index}] is not a snapshot ({ group, resources, versions })`);
    }
    return s as ServedSnapshot;
  });
}
