/**
 * Issue 10's notifications, on the local stack (`npm start`'s code, in process, embedded store):
 * a canary's events reach a signed webhook whose receiver fails the first 3 attempts of every event
 * (each event accepted exactly once after de-duplication by id, every signature verified by the
 * receiver), a Slack-format webhook filtered to one kind, EventBridge through the real SDK and
 * Pub/Sub through the real client, both against loopback fakes; a receiver that never answers does
 * not hold a run up (durations logged, never asserted); a link-local webhook stops the start.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack.js';
import { DynamoDbNotificationOutbox } from '../../shared/adapters/dynamodb/notification-outbox.js';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import { readStoreEndpoint } from '../../shared/adapters/local-store-endpoint.js';
import { DETAIL_TYPES } from '../../shared/domain/notifications/formats.js';
import type { Notification } from '../../shared/domain/notifications/types.js';
import type { OutboxItem } from '../../shared/ports/notification-outbox.js';
import { startFakeEventBridge, type FakeEventBridge } from '../support/fake-clouds/eventbridge.js';
import { errorRateTemplate, series, startFakePrometheus, type FakePrometheus } from '../support/fake-clouds/prometheus.js';
import { startFakePubSub, type FakePubSub } from '../support/fake-clouds/pubsub.js';
import { sleep, waitFor } from '../support/local-process.js';
import { freePort } from '../support/ports.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const ADMIN = `cf_notify_admin_${randomUUID()}`;
const SECRET = 'whsec-test-0123456789';
const FAST_RETRIES = { maxAttempts: 6, backoffBaseMs: 50, backoffMaxMs: 400, timeoutMs: 1000 };

interface Started {
  stack: LocalStack;
  dir: string;
  outbox: DynamoDbNotificationOutbox;
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

async function startStack(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-notify-'));
  writeFileSync(join(dir, 'crossfade.json'), JSON.stringify(config));
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ env: { CROSSFADE_CONFIG: join(dir, 'crossfade.json'), CROSSFADE_ADMIN_TOKEN: ADMIN, CROSSFADE_LOG_LEVEL: 'silent', ...env }, dataDir: dir, port: await freePort(), waitMs: 200, retryMs: 200, sweepEveryMs: 0, reconcileEveryMs: 0 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const published = readStoreEndpoint(dir)!;
  const table = createTableHandle({ region: 'us-east-1', endpoint: published.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }, published.table);
  const call = async <T,>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    stack,
    dir,
    outbox: new DynamoDbNotificationOutbox(table),
    call,
    async stop() {
      table.documents.destroy();
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function baseConfig(prometheusUrl?: string): Record<string, unknown> {
  return {
    clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
    // No proxies listed: traffic steps are published and reported unverified, which is all these runs need.
    proxyGroups: [{ name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1' }],
    analysis: prometheusUrl ? { providers: [{ name: 'prom', kind: 'prometheus', url: prometheusUrl }], templates: [errorRateTemplate('errors', 'prom')] } : { providers: [], templates: [] },
  };
}

async function register(started: Started, service: string): Promise<void> {
  for (const [index, version] of ['v1', 'v2'].entries()) {
    const answer = await started.call('PUT', `/v1/services/${service}/versions/${version}`, { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `10.1.0.${index + 1}`, port: 8080 }] }] });
    expect([200, 201]).toContain(answer.status);
  }
}

type Doc = { id: string; status: string; phase: string; hold: { kind: string } | null };

async function runToEnd(started: Started, service: string, steps: unknown[], atGate?: (id: string) => Promise<void>, canary = 'v2'): Promise<{ doc: Doc; ms: number }> {
  const t0 = performance.now();
  const created = await started.call<Doc>('POST', '/v1/deployments', { service, canary: { version: canary }, steps, reason: 'notify test' });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const id = created.body.id;
  let gated = false;
  for (;;) {
    const doc = (await started.call<Doc>('GET', `/v1/deployments/${id}`)).body;
    if (['SUCCEEDED', 'TERMINAL', 'CANCELED'].includes(doc.status)) return { doc, ms: performance.now() - t0 };
    // At the gate once the run waits there (its hold recorded), as an operator would find it.
    if (doc.hold?.kind === 'gate' && atGate && !gated) {
      gated = true;
      await atGate(id);
    }
    await sleep(50);
  }
}

async function itemsOf(started: Started, ids: readonly string[]): Promise<OutboxItem[]> {
  return (await Promise.all(ids.map((id) => started.outbox.itemsOf(id)))).flat();
}

describe('a canary notifies every destination, at least once, signed, retried', () => {
  let flaky: WebhookReceiver;
  let slack: WebhookReceiver;
  let eventBridge: FakeEventBridge;
  let pubsub: FakePubSub;
  let prometheus: FakePrometheus;
  let started: Started;

  beforeAll(async () => {
    flaky = await startWebhookReceiver({ secret: SECRET, failFirst: 3 });
    slack = await startWebhookReceiver({ secret: 'slack-secret' });
    eventBridge = await startFakeEventBridge();
    pubsub = await startFakePubSub();
    prometheus = await startFakePrometheus({ range: () => series(0.01) });
    started = await startStack(
      {
        ...baseConfig(prometheus.url),
        notifications: {
          webhooks: [
            { name: 'ops', url: flaky.url, secret: { env: 'OPS_HOOK_SECRET' } },
            { name: 'chat', url: slack.url, secret: { env: 'CHAT_HOOK_SECRET' }, format: 'slack', events: ['promoted'], services: ['shop-*'] },
          ],
          eventBridge: { busName: 'deploys', region: 'us-east-1', endpoint: eventBridge.endpoint },
          pubsub: { project: 'crossfade-test', topic: 'deploys', apiEndpoint: pubsub.apiEndpoint },
          delivery: FAST_RETRIES,
        },
      },
      { OPS_HOOK_SECRET: SECRET, CHAT_HOOK_SECRET: 'slack-secret' },
    );
    await register(started, 'shop-cart');
  }, 60_000);

  afterAll(async () => {
    await started?.stop();
    await Promise.all([flaky?.stop(), slack?.stop(), eventBridge?.stop(), pubsub?.stop(), prometheus?.stop()]);
  });

  it('delivers created, step done, paused, judgment and promoted to each destination, each exactly once after de-duplication', async () => {
    eventBridge.failNext(2); // EventBridge, too, is retried: two throttled answers first
    const steps = [{ setWeight: 50 }, { pause: {} }, { analysis: { template: 'errors', interval: '10s', count: 1 } }, { setWeight: 100 }];
    const { doc } = await runToEnd(started, 'shop-cart', steps, async (id) => {
      expect((await started.call('POST', `/v1/deployments/${id}/promote`, { reason: 'looks good' })).status).toBe(200);
    });
    expect(doc.status, JSON.stringify(doc)).toBe('SUCCEEDED');
    const prefix = `deployment/${doc.id}/`;
    const expectedTypes = ['created', 'step-done', 'paused', 'judgment', 'step-done', 'promoted'];

    // The receiver sees each event 4 times (3 refused, 1 accepted); the run did not wait for it.
    await waitFor(async () => flaky.accepted.size >= expectedTypes.length && slack.accepted.size >= 1, 30_000, 'every event accepted by the flaky receiver');
    // In the order of the events (ids sort by version); deliveries may overtake each other.
    const accepted = [...flaky.accepted.entries()].filter(([id]) => id.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b));
    expect(accepted.map(([, a]) => a.type)).toEqual(expectedTypes);
    expect(flaky.attempts.every((a) => a.signatureValid)).toBe(true);
    for (const [id] of accepted) expect(flaky.attempts.filter((a) => a.eventId === id).map((a) => a.answered)).toEqual([503, 503, 503, 204]);
    expect(flaky.duplicates).toBe(0);

    // The documented shape.
    const promoted = accepted.at(-1)![1].body as Notification;
    expect(promoted).toMatchObject({ type: 'promoted', phase: 'SUCCEEDED', deployment: { id: doc.id, service: 'shop-cart', canary: 'v2', baseline: 'v1', environment: null }, weights: { aws: { v1: 0, v2: 100 } } });
    expect(promoted.id).toBe(accepted.at(-1)![0]);
    const judgment = accepted.find(([, a]) => a.type === 'judgment')![1].body as Notification;
    expect(judgment.details['judgment']).toMatchObject({ stepIndex: 2, classification: expect.any(String) });

    // Slack format, filtered to `promoted`.
    expect([...slack.accepted.values()].map((a) => a.type)).toEqual(['promoted']);
    const message = [...slack.accepted.values()][0]!.body as { text: string; blocks: unknown[] };
    expect(message.text).toContain('shop-cart v2 was promoted');
    expect(message.blocks.length).toBeGreaterThan(0);

    // Every outbox item delivered, with its attempts counted.
    const ids = accepted.map(([id]) => id);
    await waitFor(async () => (await itemsOf(started, ids)).every((item) => item.status === 'delivered'), 30_000, 'every outbox item delivered');
    const items = await itemsOf(started, ids);
    expect(items).toHaveLength(ids.length * 3 + 1); // ops, eventbridge and pubsub each; chat only the promotion
    expect(items.filter((item) => item.destination === 'webhook:ops').map((item) => item.attempts)).toEqual(ids.map(() => 4));

    // EventBridge through the real SDK: signed, source and detail-type per kind, each event once after de-duplication.
    expect(eventBridge.unsigned).toBe(0);
    const entries = eventBridge.entries.filter((entry) => (JSON.parse(entry.Detail) as Notification).id.startsWith(prefix));
    const byId = new Map(entries.map((entry) => [(JSON.parse(entry.Detail) as Notification).id, entry]));
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    for (const entry of byId.values()) {
      const detail = JSON.parse(entry.Detail) as Notification;
      expect(entry).toMatchObject({ Source: 'crossfade', EventBusName: 'deploys', DetailType: DETAIL_TYPES[detail.type] });
    }

    // Pub/Sub through the real client: attributes carry the id and the type.
    const messages = pubsub.messages.filter((m) => m.attributes['eventId']?.startsWith(prefix));
    expect(new Set(messages.map((m) => m.attributes['eventId']))).toEqual(new Set(ids));
    for (const m of messages) {
      expect(m.topic).toBe('projects/crossfade-test/topics/deploys');
      expect((JSON.parse(m.data) as Notification).type).toBe(m.attributes['type']);
    }
  }, 120_000);
});

describe('a receiver that never answers', () => {
  let dead: WebhookReceiver;
  let started: Started;

  beforeAll(async () => {
    dead = await startWebhookReceiver({ secret: SECRET, dead: true });
    started = await startStack(
      { ...baseConfig(), notifications: { webhooks: [{ name: 'dead', url: dead.url, secret: { env: 'DEAD_SECRET' }, services: ['slow-*'] }], delivery: { maxAttempts: 3, backoffBaseMs: 50, backoffMaxMs: 200, timeoutMs: 3000 } } },
      { DEAD_SECRET: SECRET },
    );
    await register(started, 'calm-a');
    await register(started, 'slow-a');
  }, 60_000);

  afterAll(async () => {
    await started?.stop();
    await dead?.stop();
  });

  it('does not delay the run: it SUCCEEDS while the dead receiver’s items are still pending or undelivered', async () => {
    const steps = [{ setWeight: 25 }, { setWeight: 50 }, { setWeight: 100 }];
    // Alternating, three of each; every round deploys the version the previous one replaced.
    const calmMs: number[] = [];
    const slowMs: number[] = [];
    let calm: Awaited<ReturnType<typeof runToEnd>> | undefined;
    let slow: Awaited<ReturnType<typeof runToEnd>> | undefined;
    for (let round = 0; round < 3; round++) {
      const canary = round % 2 === 0 ? 'v2' : 'v1';
      calm = await runToEnd(started, 'calm-a', steps, undefined, canary);
      expect(calm.doc.status).toBe('SUCCEEDED');
      calmMs.push(calm.ms);
      slow = await runToEnd(started, 'slow-a', steps, undefined, canary);
      expect(slow.doc.status).toBe('SUCCEEDED');
      slowMs.push(slow.ms);
    }
    const shown = (ms: number[]) => ms.map((m) => m.toFixed(0)).join(', ');
    console.info(`canary duration (3 steps, 200 ms waits): ${shown(calmMs)} ms with no receiver; ${shown(slowMs)} ms with a receiver that never answers (3 s deadline per attempt)`);
    if (!calm || !slow) throw new Error('no runs');
    const events = (await started.call<{ items: { eventId: string }[] }>('GET', `/v1/deployments/${slow.doc.id}/events?limit=100`)).body.items;
    const items = await itemsOf(started, events.map((e) => `deployment/${slow.doc.id}/${e.eventId}`));
    expect(items.length).toBeGreaterThanOrEqual(4); // created, 3 steps done, promoted
    expect(items.every((item) => item.status === 'pending' || item.status === 'undelivered')).toBe(true);
    expect(dead.attempts.filter((a) => a.answered === 204)).toEqual([]);
    // None of the calm service's events went to the dead receiver (services filter).
    expect(await itemsOf(started, [`deployment/${calm.doc.id}/v000001-created`])).toEqual([]);
  }, 120_000);
});

describe('outbound safety at start', () => {
  it('refuses a webhook at a link-local (metadata) address, naming notifications.webhooks[0].url', async () => {
    const config = { ...baseConfig(), notifications: { webhooks: [{ name: 'imds', url: 'http://169.254.169.254/latest/meta-data/', secret: { env: 'X_SECRET' } }] } };
    await expect(startStack(config, { X_SECRET: 's' })).rejects.toMatchObject({ name: 'ConfigError', key: 'notifications.webhooks[0].url', message: expect.stringContaining('notifications.webhooks[0].url: host 169.254.169.254 is a') });
  });

  it('refuses a webhook whose secret variable is unset, naming notifications.webhooks[0].secret.env', async () => {
    const config = { ...baseConfig(), notifications: { webhooks: [{ name: 'ops', url: 'http://127.0.0.1:9/hook', secret: { env: 'UNSET_HOOK_SECRET_XYZ' } }] } };
    await expect(startStack(config)).rejects.toMatchObject({ name: 'ConfigError', key: 'notifications.webhooks[0].secret.env' });
  });
});
