/** The local stack's store endpoint, published in its data directory (shared/adapters/local-store-endpoint.ts). */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStoreEndpoint, STORE_ENDPOINT_FILE, writeStoreEndpoint } from '../../../shared/adapters/local-store-endpoint.js';
import { ConfigError } from '../../../shared/domain/errors.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'crossfade-endpoint-'));

describe('store endpoint file', () => {
  it('reads back what was written, mode 0600, leaving nothing aside; a second write replaces the first', () => {
    const dir = dataDir();
    writeStoreEndpoint(dir, { endpoint: 'http://127.0.0.1:40001', table: 'crossfade' });
    writeStoreEndpoint(dir, { endpoint: 'http://127.0.0.1:40002', table: 'crossfade' });

    expect(readStoreEndpoint(dir)).toEqual({ endpoint: 'http://127.0.0.1:40002', table: 'crossfade', path: join(dir, STORE_ENDPOINT_FILE) });
    expect(statSync(join(dir, STORE_ENDPOINT_FILE)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([STORE_ENDPOINT_FILE]);
  });

  it('nothing published: undefined', () => {
    expect(readStoreEndpoint(dataDir())).toBeUndefined();
  });

  it.each([
    ['not JSON', 'http://127.0.0.1:40001'],
    ['an endpoint off this machine', JSON.stringify({ endpoint: 'http://dynamodb.example.com:8000', table: 'crossfade' })],
    ['an endpoint without a port', JSON.stringify({ endpoint: 'http://127.0.0.1', table: 'crossfade' })],
    ['no table', JSON.stringify({ endpoint: 'http://127.0.0.1:40001' })],
  ])('%s: ConfigError naming the file', (_case, text) => {
    const dir = dataDir();
    writeFileSync(join(dir, STORE_ENDPOINT_FILE), text);

    expect(() => readStoreEndpoint(dir)).toThrow(ConfigError);
    expect(() => readStoreEndpoint(dir)).toThrow(join(dir, STORE_ENDPOINT_FILE));
  });

  it('refuses to publish an endpoint off this machine', () => {
    expect(() => writeStoreEndpoint(dataDir(), { endpoint: 'https://dynamodb.us-east-1.amazonaws.com', table: 'crossfade' })).toThrow(ConfigError);
  });
});
