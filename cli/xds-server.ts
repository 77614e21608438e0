/**
 * `crossfade xds-server --snapshot-file <path> [--port 18000] [--host 127.0.0.1]`: the gRPC ADS
 * server for Envoy over gRPC and proxyless gRPC clients (shared/adapters/xds/ads-server.ts).
 *
 * For now it serves the snapshots of a JSON file: an array of what engine `buildSnapshot` returns
 * (`{ group, resources, versions }`), each checked before it is served. The store-backed mode (read
 * the published snapshots from DynamoDB, follow their changes, store ACKs and NACKs) comes with the
 * mesh registry. Nodes map to groups through crossfade.yaml's `proxyGroups` (CROSSFADE_CONFIG).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../shared/adapters/config-file.js';
import { createJsonLogger } from '../shared/adapters/json-logger.js';
import { createAdsServer, type AdsServer, type ServedSnapshot } from '../shared/adapters/xds/ads-server.js';
import type { ProxyGroup } from '../shared/domain/mesh.js';

export const XDS_SERVER_USAGE = `usage: crossfade xds-server --snapshot-file <path> [--port 18000] [--host 127.0.0.1]`;

/**
 * The engine's rules, passed in by the composition root: the CLI may not import the engine.
 * `checkSnapshot` is engine `assertConsistent`; `groupOfNode` is engine `groupOfNode`.
 */
export interface XdsServerDeps {
  checkSnapshot(snapshot: ServedSnapshot): void;
  groupOfNode(node: { id: string; cluster: string }, groups: readonly ProxyGroup[]): string | undefined;
  env: Record<string, string | undefined>;
}

export interface RunningXdsServer {
  server: AdsServer;
  host: string;
  port: number;
}

/** Starts the server with every snapshot of the file published. Throws on bad arguments, a bad file or a refused snapshot. */
export async function runXdsServer(args: string[], deps: XdsServerDeps): Promise<RunningXdsServer> {
  const { values } = parseArgs({ args, options: { port: { type: 'string', default: '18000' }, host: { type: 'string', default: '127.0.0.1' }, 'snapshot-file': { type: 'string' } }, strict: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got ${values.port}`);
  const file = values['snapshot-file'];
  if (!file) throw new Error(`--snapshot-file is required (the store-backed mode comes with the mesh registry)\n\n${XDS_SERVER_USAGE}`);
  const snapshots = readSnapshots(file);
  const { config } = loadConfig(deps.env, { required: false });
  const logger = createJsonLogger({ level: 'info' });
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
  return { server, ...bound };
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
