/**
 * Where the local stack's embedded store listens, published in its data directory
 * (`<dataDir>/store-endpoint.json`): the store takes a free port at every start, and
 * `crossfade xds-server` on the same machine reads this file to follow the snapshots the local
 * stack publishes. The stack writes it (local/stack.ts); the xds-server reads it
 * (runtime/xds.ts), and again when the store stops answering, since a restarted stack has
 * another port.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../domain/errors.js';

export interface StoreEndpoint {
  /** `http://127.0.0.1:PORT`: the embedded store listens on loopback only. */
  endpoint: string;
  table: string;
}

export interface PublishedStoreEndpoint extends StoreEndpoint {
  /** The file it was read from, for messages. */
  path: string;
}

export const STORE_ENDPOINT_FILE = 'store-endpoint.json';
/** The local stack's data directory when CROSSFADE_DATA_DIR does not name one (relative to the working directory). */
export const DEFAULT_DATA_DIR = '.crossfade';

export function localDataDir(env: Record<string, string | undefined>): string {
  return resolve(env['CROSSFADE_DATA_DIR'] ?? DEFAULT_DATA_DIR);
}

export function storeEndpointPath(dataDir: string): string {
  return join(resolve(dataDir), STORE_ENDPOINT_FILE);
}

/** Mode 0600 like the admin token beside it, written aside and renamed: a reader never sees half a file. */
export function writeStoreEndpoint(dataDir: string, published: StoreEndpoint): void {
  checkEndpoint(published, 'the store endpoint to publish');
  const path = storeEndpointPath(dataDir);
  const aside = `${path}.${process.pid}.tmp`;
  rmSync(aside, { force: true });
  writeFileSync(aside, `${JSON.stringify({ endpoint: published.endpoint, table: published.table })}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(aside, path);
}

/** What the local stack published in `dataDir`; undefined when it published nothing there. ConfigError naming the file when it holds something else. */
export function readStoreEndpoint(dataDir: string): PublishedStoreEndpoint | undefined {
  const path = storeEndpointPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`${path} cannot be read: ${(error as Error).message}`, 'CROSSFADE_DATA_DIR');
  }
  let document: Partial<StoreEndpoint> | null;
  try {
    document = JSON.parse(text) as Partial<StoreEndpoint> | null;
  } catch {
    throw new ConfigError(`${path} is not JSON: remove it and start the local stack again`, 'CROSSFADE_DATA_DIR');
  }
  const published = { endpoint: String(document?.endpoint ?? ''), table: String(document?.table ?? '') };
  checkEndpoint(published, path);
  return { ...published, path };
}

/** A loopback http URL and a DynamoDB table name: what the embedded store has, and nothing that would send requests elsewhere. */
function checkEndpoint(published: StoreEndpoint, source: string): void {
  const url = URL.canParse(published.endpoint) ? new URL(published.endpoint) : undefined;
  if (url?.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.port === '') {
    throw new ConfigError(`${source}: endpoint "${published.endpoint}" is not http://127.0.0.1:PORT`, 'CROSSFADE_DATA_DIR');
  }
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(published.table)) throw new ConfigError(`${source}: table "${published.table}" is not a DynamoDB table name`, 'CROSSFADE_DATA_DIR');
}
