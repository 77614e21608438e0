/**
 * The data plane's writes survive a SIGKILL between them, on real `npm start` processes
 * (test/support/chaos.ts: a crash point kills the process, which is started again on the same
 * state):
 * - a dependency declaration killed after its registry write and before its sidecar groups were
 *   published: the client's retry of the same PUT publishes them;
 * - a canary over Envoy groups (the Envoy traffic router) killed after each split write and before
 *   its publish: the run still ends SUCCEEDED and the published snapshot routes the final split.
 * The published HEADs are read from the process's own store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbPartStore } from '../../shared/adapters/dynamodb/part-store.js';
import type { Split } from '../../shared/domain/mesh.js';
import { headRoutesCarry } from '../../shared/usecases/published-route.js';
import { ChaosNode } from '../support/chaos.js';

const EDGE = 'envoy-edge';
const SIDECARS = 'checkout-sidecars';
const DECLARE_CRASH = 'dependencies:after-write';
const STEP_CRASHES = ['traffic:after-split-write:step0', 'traffic:after-split-write:step1'];

let node: ChaosNode;

beforeAll(async () => {
  node = await ChaosNode.create({
    name: 'dataplane',
    store: 'embedded',
    crashAt: [DECLARE_CRASH],
    config: {
      clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
      proxyGroups: [
        { name: EDGE, kind: 'envoy', cloud: 'aws', region: 'us-east-1' },
        { name: SIDECARS, kind: 'envoy', cloud: 'aws', region: 'us-east-1', sidecarOf: 'checkout' },
      ],
    },
    env: { CROSSFADE_LOCAL_WAIT_MS: '200', CROSSFADE_LOCAL_RETRY_MS: '300', CROSSFADE_SWEEP_SECONDS: '1' },
  });
  for (const service of ['payments', 'cart']) {
    for (const [index, version] of ['v1', 'v2'].entries()) {
      await node.must('PUT', `/v1/services/${service}/versions/${version}`, { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `10.3.${index}.${service.length}`, port: 8080 }] }] }, 201);
    }
  }
}, 90_000);

afterAll(async () => {
  await node?.stop();
});

/** The services whose parts a group's published HEAD holds (none when nothing is published). */
async function publishedServices(group: string): Promise<string[] | undefined> {
  return node.read(async (table) => {
    const parts = new DynamoDbPartStore(table);
    const head = await parts.head(group);
    return head ? [...(await parts.manifest(head)).keys()].sort() : [];
  });
}

async function routes(group: string, service: string, split: Split): Promise<boolean | undefined> {
  return node.read(async (table) => {
    const parts = new DynamoDbPartStore(table);
    const head = await parts.head(group);
    return head !== undefined && (await headRoutesCarry(parts, head, service, split));
  });
}

describe('the data plane killed between its writes', () => {
  it('a declaration killed before its sidecar group was published: the retried PUT publishes it', async () => {
    const declare = () => node.call<{ outcome: string; sidecarGroups: Record<string, string> }>('PUT', '/v1/services/checkout/dependencies', { dependencies: ['payments'] });

    expect(await declare()).toBeUndefined();
    expect(node.fired().map((f) => f.entry)).toEqual([DECLARE_CRASH]);
    // Written, not published: the sidecar group does not see payments yet.
    expect(await publishedServices(SIDECARS)).not.toContain('payments');

    const retried = await declare();
    expect(retried?.status, JSON.stringify(retried?.body)).toBe(200);
    expect(retried!.body.outcome).toBe('unchanged');
    expect(retried!.body.sidecarGroups).toEqual({ [SIDECARS]: 'published' });
    expect(await publishedServices(SIDECARS)).toEqual(['payments']);
  });

  it('a canary over Envoy groups killed after each split write: SUCCEEDED, and the published snapshot routes 0/100', async () => {
    // Armed for the next process: this one is killed, and the next call starts one armed.
    node.arm(STEP_CRASHES);
    node.killNow();
    let id: string | undefined;
    while (id === undefined) {
      const created = await node.call<{ id: string }>('POST', '/v1/deployments', { service: 'cart', canary: { version: 'v2' }, baseline: { version: 'v1' }, steps: [{ setWeight: 50 }, { setWeight: 100 }] }, { 'x-idempotency-key': 'chaos-dataplane-cart' });
      if (created !== undefined) {
        expect(created.status, JSON.stringify(created.body)).toBe(202);
        id = created.body.id;
      }
    }
    const done = await node.driveToEnd(id, 180_000);

    expect(done.status).toBe('SUCCEEDED');
    expect(node.fired().map((f) => f.entry)).toEqual([DECLARE_CRASH, ...STEP_CRASHES]);
    expect(await routes(EDGE, 'cart', { v1: 0, v2: 100 })).toBe(true);
    // The sidecar group of checkout does not see cart: nothing of it is published there.
    expect(await publishedServices(SIDECARS)).toEqual(['payments']);
  });
});
