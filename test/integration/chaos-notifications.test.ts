/**
 * At least once across crashes: a real `npm start` process is SIGKILLed between an event's record
 * and its delivery — inside the creation (the deployment written, its `created` event neither
 * appended nor enqueued), right after the first step's notification was enqueued (not yet
 * delivered), and inside the promotion (the deployment SUCCEEDED, its event neither appended nor
 * enqueued) — and started again on the same state. The restarted process's repair
 * (ensureLastEvent) enqueues what the dead one recorded, and its dispatcher delivers what is
 * pending: the receiver gets every notification, each exactly once after de-duplication, signed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ChaosNode } from '../support/chaos.js';
import { waitFor } from '../support/local-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'chaos-hook-secret';
const SERVICE = 'chaos-notify';
const CRASH_AT = ['create:after-lock', 'notify:after-enqueue:deployment.converge', 'write:promote:after-write'] as const;

let receiver: WebhookReceiver;
let node: ChaosNode;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret: SECRET });
  node = await ChaosNode.create({
    name: 'notify',
    store: 'embedded',
    crashAt: CRASH_AT,
    config: {
      clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
      proxyGroups: [{ name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1' }],
      notifications: { webhooks: [{ name: 'ops', url: receiver.url, secret: { env: 'OPS_HOOK_SECRET' } }], delivery: { maxAttempts: 6, backoffBaseMs: 100, backoffMaxMs: 1000, timeoutMs: 2000 } },
    },
    env: { OPS_HOOK_SECRET: SECRET, CROSSFADE_LOCAL_WAIT_MS: '200', CROSSFADE_LOCAL_RETRY_MS: '300', CROSSFADE_SWEEP_SECONDS: '1' },
  });
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await receiver?.stop();
});

it('delivers the notifications of events whose process died before enqueueing them', async () => {
  for (const [index, version] of ['v1', 'v2'].entries()) {
    await node.must('PUT', `/v1/services/${SERVICE}/versions/${version}`, { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: SERVICE, kubernetesService: SERVICE, port: 8080, endpoints: [{ address: `10.2.0.${index + 1}`, port: 8080 }] }] }, 201);
  }
  let id: string | undefined;
  while (id === undefined) {
    // The process dies inside the first attempt; the retry with the same key finishes the creation.
    const created = await node.call<{ id: string }>('POST', '/v1/deployments', { service: SERVICE, canary: { version: 'v2' }, steps: [{ setWeight: 50 }, { setWeight: 100 }] }, { 'x-idempotency-key': 'chaos-notify-1' });
    if (created !== undefined) {
      expect(created.status, JSON.stringify(created.body)).toBe(202);
      id = created.body.id;
    }
  }
  const done = await node.driveToEnd(id, 180_000);
  expect(done.status).toBe('SUCCEEDED');
  expect(node.fired().map((f) => f.entry)).toEqual([...CRASH_AT]);

  const prefix = `deployment/${id}/`;
  const expected = ['created', 'step-done', 'step-done', 'promoted'];
  await waitFor(async () => [...receiver.accepted.keys()].filter((key) => key.startsWith(prefix)).length >= expected.length, 60_000, 'every notification delivered after the crashes');
  const accepted = [...receiver.accepted.entries()].filter(([key]) => key.startsWith(prefix));
  expect(accepted.map(([, a]) => a.type).sort()).toEqual([...expected].sort());
  expect(accepted.find(([, a]) => a.type === 'promoted')![1].body).toMatchObject({ phase: 'SUCCEEDED', deployment: { id, service: SERVICE } });
  expect(receiver.attempts.every((a) => a.signatureValid)).toBe(true);
  console.info(`${node.summary(done.status)}; ${accepted.length} notifications delivered, ${receiver.duplicates} duplicates dropped by id`);
}, 240_000);
