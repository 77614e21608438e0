/**
 * The GCP scheduled reconciliation: the built bundle's `reconcile` CloudEvent function, served by
 * functions-framework on 127.0.0.1 and called the way Cloud Scheduler's Pub/Sub push reaches it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { apiTableOnDynamoDbLocal, type ApiEnvironment } from '../support/http-targets.js';

let api: ApiEnvironment;
let server: Server;
let base: string;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('gcp-reconcile');
  const { table } = api;
  // Two registered services, so the run has something to count; its report is logged at info.
  const { registry } = createDynamoDbStores(table);
  for (const service of ['cart', 'search']) {
    await registry.putVersion({
      service,
      version: 'v1',
      clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address: '10.0.0.1', port: 8080, zone: null }] }],
      registeredAt: '2026-11-26T10:00:00.000Z',
      registeredBy: 'test',
      revision: 1,
    });
  }
  process.env['CROSSFADE_LOG_LEVEL'] = 'info';
  await import(pathToFileURL(resolve('dist', 'gcp', 'index.mjs')).href);
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  server = getTestServer('reconcile') as Server;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
  await api.stop();
});

/** A Pub/Sub message as a binary-mode CloudEvent (what Eventarc delivers to a gen2 function). */
function pubsubEvent(id: string): RequestInit {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-id': id,
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': '//pubsub.googleapis.com/projects/p/topics/crossfade-api-reconcile',
    },
    body: JSON.stringify({ message: { data: Buffer.from('{}').toString('base64'), messageId: id }, subscription: 'projects/p/subscriptions/s' }),
  };
}

describe('GCP scheduled reconciliation', () => {
  it('reconciles every registered service in a run of shards, then acknowledges the event', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    let answer: Response;
    try {
      answer = await fetch(base, pubsubEvent('1'));
    } finally {
      spy.mockRestore();
    }
    expect(answer.status).toBe(204);
    const line = written.filter((text) => text.startsWith('{')).map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry['message'] === 'scheduled reconciliation');
    expect(line).toMatchObject({ mesh: { outcome: 'finished', run: { status: 'finished', servicesSeen: 2, errors: 0, shardsDone: 1 } }, runs: { marked: 0, failed: 0 } });
  });
});
