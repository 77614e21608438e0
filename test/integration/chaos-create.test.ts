/**
 * Creation killed anywhere (shared/usecases/create-deployment.ts: claim → mark → create → lock →
 * event → start), on real `npm start` processes killed with SIGKILL:
 * - at each `create:*` crash point in turn, the client retrying the same X-Idempotency-Key on each
 *   restarted process (each retry dies at the next point, the last one lives): one deployment for
 *   the key, run to its end, its lock released;
 * - at each point without a retry: the restarted process's sweeper starts the deployment or removes
 *   its mark, and no lock ever names a deployment that does not exist;
 * - a burst of 30 creations (30 services) killed from outside at a random moment once some were
 *   accepted; every client retries its key: one deployment per key, each run to its end, no lock
 *   left, none without its `created` event, and no unfinished deployment without its mark.
 * The proxy group lists no proxies (unverified): creation is what is under test, not traffic.
 */
import { describe, expect, it } from 'vitest';
import { ChaosNode, type StatusDoc, type StoreKind } from '../support/chaos.js';
import { LOOPBACK_CIDRS } from '../support/mesh-builders.js';
import { sleep } from '../support/local-process.js';

const POINTS = ['create:after-claim', 'create:after-marker', 'create:after-deployment', 'create:after-lock', 'create:after-event'] as const;
const STEPS = [{ setWeight: 50 }, { setWeight: 100 }];
const BURST = 30;

const config = {
  clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
  proxyGroups: [{ name: 'edge-use1', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [] }],
  mesh: { allowedEndpointCidrs: LOOPBACK_CIDRS },
};

function node(name: string, store: StoreKind, crashAt: readonly string[] = []): Promise<ChaosNode> {
  // A short grace and frequent sweeps: the sweeper is what finishes the creations nobody retries.
  return ChaosNode.create({ name, store, config, crashAt, env: { CROSSFADE_LOCAL_RETRY_MS: '500', CROSSFADE_SWEEP_SECONDS: '1', CROSSFADE_RESUME_GRACE_SECONDS: '2' } });
}

async function register(n: ChaosNode, service: string): Promise<void> {
  for (const [index, version] of ['v1', 'v2'].entries()) {
    await n.must('PUT', `/v1/services/${service}/versions/${version}`, {
      targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: `${service}-${version}`, port: 8080, endpoints: [{ address: '127.0.0.1', port: 20_001 + index }] }],
    }, 201);
  }
}

const createBody = (service: string) => ({ service, canary: { version: 'v2' }, steps: STEPS, reason: 'chaos: creation' });

/** POST /v1/deployments with `key`: the status document, or undefined when the process died answering it. */
async function create(n: ChaosNode, service: string, key: string): Promise<StatusDoc | undefined> {
  const answer = await n.call<StatusDoc>('POST', '/v1/deployments', createBody(service), { 'x-idempotency-key': key });
  if (answer === undefined) return undefined;
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body;
}

async function deploymentsOf(n: ChaosNode, service: string): Promise<StatusDoc[]> {
  return (await n.must<{ items: StatusDoc[] }>('GET', `/v1/deployments?service=${service}`, undefined, 200)).items;
}

/** No lock names a deployment that does not exist (every LOCK item of the table, read from the store). */
async function expectNoOrphanLock(n: ChaosNode): Promise<void> {
  for (const lock of await n.heldLocks()) expect(await n.deployment(lock.owner), `lock of ${lock.service} held by ${lock.owner}`).toBeDefined();
}

/** The run has ended as planned, its `created` event first, its versions without gap, its lock free. */
async function expectRunToEnd(n: ChaosNode, id: string): Promise<void> {
  const done = await n.driveToEnd(id, 150_000);
  const events = await n.events(id);
  expect(done, JSON.stringify({ done, events })).toMatchObject({ status: 'SUCCEEDED', weights: { aws: { v1: 0, v2: 100 } } });
  expect(events[0]).toMatchObject({ eventId: 'v000001-created', action: 'deployment.created' });
  expect(events.map((e) => Number(e.eventId.slice(1, 7)))).toEqual(events.map((_, i) => i + 1));
  expect((await n.heldLocks()).filter((lock) => lock.owner === id)).toEqual([]);
}

async function withNode<T>(n: ChaosNode, work: (n: ChaosNode) => Promise<T>): Promise<T> {
  try {
    return await work(n);
  } finally {
    await n.stop();
  }
}

describe.concurrent('a creation killed anywhere', () => {
  it('killed at every point in turn, the same key retried on each restarted process: one deployment, run to its end, lock released', async () => {
    await withNode(await node('retried', 'dynamodb-local', POINTS), async (n) => {
      const service = 'retried';
      await register(n, service);
      // The first attempt dies at after-claim; each retry redoes what landed and dies at the next point still armed.
      for (const [index, point] of POINTS.entries()) {
        expect(await create(n, service, 'the-key')).toBeUndefined();
        expect(n.fired().map((f) => f.entry)).toEqual(POINTS.slice(0, index + 1));
        expect(n.fired().at(-1)!.point).toBe(point);
        await n.up();
        await expectNoOrphanLock(n);
      }
      const retried = (await create(n, service, 'the-key'))!;
      expect((await deploymentsOf(n, service)).map((d) => d.id)).toEqual([retried.id]);
      await expectRunToEnd(n, retried.id);
      expect(await n.marks()).toEqual([]);
      expect(await n.heldLocks()).toEqual([]);
      console.log(n.summary(`one creation killed at each of ${POINTS.length} points, retried each time: created once, SUCCEEDED`));
    });
  }, 200_000);

  it('killed at each point in turn, never retried: the sweeper starts what was written or removes its mark, and no lock names a missing deployment', async () => {
    await withNode(await node('no-retry', 'embedded', POINTS), async (n) => {
      const services = POINTS.map((_, index) => `unretried-${index}`);
      for (const service of services) await register(n, service);
      // Each creation dies at the first point still armed: the first at after-claim, the next at after-marker...
      for (const [index, service] of services.entries()) {
        expect(await create(n, service, `key-${index}`)).toBeUndefined();
        expect(n.fired().map((f) => f.entry)).toEqual(POINTS.slice(0, index + 1));
        await n.up();
        await expectNoOrphanLock(n);
      }
      // Before the deployment was written (claim, mark): nothing to run, no mark left.
      for (const service of services.slice(0, 2)) expect(await deploymentsOf(n, service)).toEqual([]);
      // Written: started by the sweeper and run to its end.
      for (const service of services.slice(2)) {
        const [only, ...more] = await deploymentsOf(n, service);
        expect(more).toEqual([]);
        await expectRunToEnd(n, only!.id);
      }
      expect(await n.marks()).toEqual([]);
      expect(await n.heldLocks()).toEqual([]);
      console.log(n.summary(`${POINTS.length} creations killed, none retried: 3 SUCCEEDED, 2 never written`));
    });
  }, 200_000);

  it(`a burst of ${BURST} creations killed from outside at a random moment: every key retried ends in one deployment that runs to its end`, async () => {
    await withNode(await node('burst', 'embedded'), async (n) => {
      const services = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
      for (const service of services) await register(n, service);

      const accepted = new Map<string, string>();
      const killAfter = 3 + Math.floor(Math.random() * 8);
      let killed = false;
      const first = services.map(async (service, i) => {
        const doc = await create(n, service, `burst-key-${i}`);
        if (doc) accepted.set(service, doc.id);
        if (!killed && accepted.size >= killAfter) {
          killed = true;
          await sleep(Math.random() * 30);
          n.killNow();
        }
      });
      await Promise.all(first);
      expect(killed).toBe(true);

      // Every client retries its key on the restarted process; a key already answered gets the same deployment.
      await n.up();
      await expectNoOrphanLock(n);
      const retried = await Promise.all(services.map((service, i) => create(n, service, `burst-key-${i}`)));
      for (const [i, service] of services.entries()) {
        const doc = retried[i]!;
        if (accepted.has(service)) expect(doc.id).toBe(accepted.get(service));
        expect((await deploymentsOf(n, service)).map((d) => d.id)).toEqual([doc.id]);
        // An unfinished deployment always has its mark: else nothing would resume it after another death.
        const stored = (await n.deployment(doc.id))!;
        if (!stored.run.released) expect((await n.marks()).map((m) => m.deploymentId)).toContain(doc.id);
      }
      await Promise.all(retried.map((doc) => expectRunToEnd(n, doc!.id)));
      expect(await n.marks()).toEqual([]);
      expect(await n.heldLocks()).toEqual([]);
      console.log(n.summary(`${accepted.size} of ${BURST} accepted before the kill, ${BURST} retried: ${BURST} SUCCEEDED`));
    });
  }, 200_000);
});
