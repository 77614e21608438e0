/**
 * Issue 8's acceptance: runs survive their process being killed anywhere. Each chain is one
 * deployment driven by real `npm start` processes on one data directory; CROSSFADE_CRASH_AT arms a
 * crash point at every task boundary and inside each task the chain passes (local/crash-points.ts,
 * each fires once), and after every SIGKILL the same command is started again on the same state,
 * until the run has ended. Four chains, each on its own service, run at once, alternating the
 * embedded store and DynamoDB Local; one real HAProxy serves them all (a backend per service) and a
 * fake Prometheus answers the judge (test/support/fake-clouds/prometheus.ts):
 * - run: setWeight, timed pause, manual gate (promoted by the test), analysis ×2, setWeight 100 →
 *   SUCCEEDED; a kill also inside the promote request, after its write and before the wake;
 * - rollback: the canary's series is worse, the first judgment fails → TERMINAL;
 * - recover: the provider refuses the canary's range query, the task fails for good → Recover →
 *   rollback → TERMINAL naming the refusal;
 * - cancel: canceled at the gate (a kill after the cancel's write, before its event) → CANCELED.
 * After each: the plan's end, the lock and the mark gone, the registry and HAProxy serving the
 * final split, audit versions 1..N without gap or repeat with the deployment at version N, and
 * every armed crash point fired (so the points exist and were passed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyBackendName } from '../../shared/adapters/haproxy/haproxy-router.js';
import type { Deployment } from '../../shared/domain/deployment.js';
import { ChaosNode, type StatusDoc, type StoreKind } from '../support/chaos.js';
import { errorRateTemplate, series, startFakePrometheus, type FakePrometheus, type RangeAnswer } from '../support/fake-clouds/prometheus.js';
import { startHaproxy, versionShares, type HaproxyInstance } from '../support/haproxy.js';
import { LOOPBACK_CIDRS } from '../support/mesh-builders.js';

const GROUP = 'edge-use1';
const TEMPLATE = 'chaos-golden';
const SERVICES = { run: 'chaos-run', rollback: 'chaos-rollback', recover: 'chaos-recover', cancel: 'chaos-cancel' } as const;
// Bounds, not expectations: a chain takes about a minute alone on two cores, far longer beside other suites.
const CHAIN_TIMEOUT_MS = 300_000;

let haproxy: HaproxyInstance;
let prometheus: FakePrometheus;

beforeAll(async () => {
  haproxy = await startHaproxy('edge-1', Object.values(SERVICES).map((service) => ({ name: haproxyBackendName(service) })));
  prometheus = await startFakePrometheus({ range: seriesOf });
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await haproxy?.stop();
});

function seriesOf(expression: string): RangeAnswer {
  const service = /service="([^"]+)"/.exec(expression)?.[1];
  const canary = expression.includes('version="v2"');
  if (canary && service === SERVICES.rollback) return series(0.3);
  if (canary && service === SERVICES.recover) return { refuse: 'found duplicate series for the match group on the right hand-side of the operation' };
  return series(0.01);
}

function config(): Record<string, unknown> {
  return {
    clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
    proxyGroups: [{ name: GROUP, kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [haproxy.proxy] }],
    mesh: { allowedEndpointCidrs: LOOPBACK_CIDRS },
    analysis: {
      providers: [{ name: 'prom', kind: 'prometheus', url: prometheus.url }],
      templates: [errorRateTemplate(TEMPLATE, 'prom')],
    },
  };
}

interface Chain {
  node: ChaosNode;
  id: string;
  service: string;
  crashAt: readonly string[];
}

/** A node armed with `crashAt`, both versions of `service` registered, and the deployment created (retried with its key if a crash point fires meanwhile). */
async function startChain(name: string, store: StoreKind, service: string, steps: unknown[], crashAt: readonly string[]): Promise<Chain> {
  const node = await ChaosNode.create({
    name,
    store,
    config: config(),
    crashAt,
    // Retries at 500 ms: six of them outlast a moment of starved CPU, which 100 ms ones did not.
    env: { CROSSFADE_LOCAL_WAIT_MS: '300', CROSSFADE_LOCAL_RETRY_MS: '500', CROSSFADE_SWEEP_SECONDS: '1' },
  });
  for (const [index, version] of ['v1', 'v2'].entries()) {
    await node.must('PUT', `/v1/services/${service}/versions/${version}`, {
      targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: `${service}-${version}`, port: 8080, endpoints: [{ address: '127.0.0.1', port: 20_001 + index }] }],
    }, 201);
  }
  // The run starts inside the request, and may reach an armed point before the answer is sent.
  for (;;) {
    const created = await node.call<{ id: string }>('POST', '/v1/deployments', { service, canary: { version: 'v2' }, steps, reason: `chaos ${name}` }, { 'x-idempotency-key': `chaos-${name}` });
    if (created === undefined) continue;
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    return { node, id: created.body.id, service, crashAt };
  }
}

/** Everything that must hold once a chain's run has ended; prints its summary line. */
async function expectEnded(chain: Chain, done: StatusDoc, canaryPercent: 0 | 100): Promise<Deployment> {
  const { node, id, service } = chain;
  const stored = (await node.deployment(id))!;
  expect(stored.run.released).toBe(true);
  // Traffic as the status says, in the registry and in HAProxy itself.
  const split = { v1: 100 - canaryPercent, v2: canaryPercent };
  expect(done.weights).toEqual({ aws: split });
  expect(done.result?.weights).toEqual({ aws: split });
  const view = await node.must<{ weights: Record<string, Record<string, number>> }>('GET', `/v1/services/${service}`, undefined, 200);
  expect(view.weights).toEqual({ [GROUP]: split });
  expect((await versionShares(haproxy.adminPort, haproxyBackendName(service))).shares).toEqual(split);
  // Unlocked, unmarked.
  expect((await node.heldLocks()).filter((lock) => lock.service === service)).toEqual([]);
  expect((await node.marks()).map((mark) => mark.deploymentId)).not.toContain(id);
  // No audit event lost or recorded twice: versions 1..N, and the deployment at N.
  const events = await node.events(id);
  expect(events.map((e) => Number(e.eventId.slice(1, 7)))).toEqual(events.map((_, i) => i + 1));
  expect(events.at(-1)!.eventId).toMatch(/^v\d{6}-release$/);
  expect(stored.version).toBe(events.length);
  // Every armed crash point fired, once: the process died that many times.
  const fired = node.fired();
  const timeline = `fired: ${fired.map((f) => f.point).join(', ')}; events: ${events.map((e) => e.eventId).join(', ')}`;
  expect(fired.map((f) => f.entry).sort(), timeline).toEqual([...chain.crashAt].sort());
  expect(node.kills).toBe(chain.crashAt.length);
  console.log(node.summary(`${done.status} (${done.result?.reason ?? 'no result'}); ${events.length} events`));
  return stored;
}

async function chain<T>(run: () => Promise<Chain>, check: (c: Chain) => Promise<T>): Promise<T> {
  const started = await run();
  try {
    return await check(started);
  } finally {
    await started.node.stop();
  }
}

const atGate = (stored: Deployment, stepIndex: number) => stored.run.hold?.kind === 'gate' && stored.stepIndex === stepIndex && stored.run.outcome === null;

// The four chains at once: most of a chain's time is its restarts' CPU and its holds' waiting, which overlap.
describe.concurrent('a run killed anywhere ends as its plan and requests say', () => {
  it('run: killed in every task from prepare to release and in the promote request, promoted at its gate → SUCCEEDED, canary at 100%', async () => {
    const crashAt = [
      'traffic:after-split-write:step0', // prepare puts the canary at 0%
      'task:prepare:before-write',
      'write:prepare:after-write',
      'write:shift:after-write',
      'task:hold:start',
      'task:hold:before-write',
      'task:hold:done',
      'write:hold:after-write',
      'write:unhold:after-write',
      'control:promote:before-wake',
      'task:judge:before-write',
      'write:judge:after-write',
      'traffic:after-split-write:step4', // the last setWeight
      'task:promote:start',
      'task:promote:before-write',
      'write:promote:after-write:step5', // the promotion's own write, not the request's (task:promote:done cannot follow it)
      'task:release:done',
    ];
    const steps = [{ setWeight: 20 }, { pause: { duration: '30s' } }, { pause: {} }, { analysis: { template: TEMPLATE, interval: '10s', count: 2 } }, { setWeight: 100 }];
    await chain(
      () => startChain('run', 'embedded', SERVICES.run, steps, crashAt),
      async (c) => {
        const done = await c.node.driveToEnd(c.id, CHAIN_TIMEOUT_MS - 20_000, async (_doc, stored) => {
          if (!atGate(stored, 2)) return;
          const promoted = await c.node.call('POST', `/v1/deployments/${c.id}/promote`, { reason: 'chaos: the gate is passed' });
          if (promoted) expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
        });
        expect(done).toMatchObject({ status: 'SUCCEEDED', phase: 'SUCCEEDED', result: { outcome: 'promoted' } });
        expect(done.result!.judgments.map((j) => [j.stepIndex, j.classification])).toEqual([[3, 'Pass'], [3, 'Pass']]);
        await expectEnded(c, done, 100);
      },
    );
  }, CHAIN_TIMEOUT_MS);

  it('cancel: canceled at the gate, killed after the cancel’s write and in prepare, shift, converge, unhold, rollback and release → CANCELED, baseline at 100%', async () => {
    const crashAt = [
      'task:prepare:done',
      'task:shift:before-write',
      'task:converge:before-write',
      'write:converge:after-write',
      'task:unhold:done',
      'write:cancel:after-write', // the request's write landed, its event not yet appended
      'task:rollback:start',
      'task:release:before-write',
    ];
    const steps = [{ setWeight: 30 }, { pause: { duration: '30s' } }, { pause: {} }, { setWeight: 100 }];
    await chain(
      () => startChain('cancel', 'dynamodb-local', SERVICES.cancel, steps, crashAt),
      async (c) => {
        let answered = false;
        let asked = false;
        const done = await c.node.driveToEnd(c.id, CHAIN_TIMEOUT_MS - 20_000, async (_doc, stored) => {
          if (answered || !(asked || atGate(stored, 2))) return;
          asked = true;
          // Cancel is idempotent: a cancel whose answer died with the process is sent again.
          const canceled = await c.node.call('POST', `/v1/deployments/${c.id}/cancel`, { reason: 'chaos: canceled at the gate' });
          if (canceled === undefined) return;
          expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
          answered = true;
        });
        expect(answered).toBe(true);
        expect(done).toMatchObject({ status: 'CANCELED', phase: 'CANCELED', result: { outcome: 'canceled' } });
        expect(done.result!.reason).toBe(`canceled by local-admin: chaos: canceled at the gate`);
        const events = await c.node.events(c.id);
        expect(events.filter((e) => e.action === 'deployment.cancel')).toHaveLength(1);
        await expectEnded(c, done, 0);
      },
    );
  }, CHAIN_TIMEOUT_MS);

  it('rollback: the canary measures worse, killed in prepare, shift, converge, unhold, judge, rollback and release → TERMINAL, baseline at 100%', async () => {
    const crashAt = [
      'task:prepare:start',
      'task:shift:start',
      'task:converge:done',
      'task:unhold:start',
      'task:judge:start',
      'task:judge:done',
      'task:rollback:before-write',
      'traffic:after-split-write:step1', // the rollback's split (the analysis is step 1)
      'write:rollback:after-write',
      'task:release:start',
    ];
    const steps = [{ setWeight: 20 }, { analysis: { template: TEMPLATE, interval: '10s', count: 2 } }, { setWeight: 100 }];
    await chain(
      () => startChain('rollback', 'dynamodb-local', SERVICES.rollback, steps, crashAt),
      async (c) => {
        const done = await c.node.driveToEnd(c.id, CHAIN_TIMEOUT_MS - 20_000);
        expect(done).toMatchObject({ status: 'TERMINAL', phase: 'ROLLED_BACK', result: { outcome: 'rolled back' } });
        expect(done.result!.reason).toMatch(/^analysis 2\/3 failed: /);
        expect(done.result!.judgments).toHaveLength(1);
        await expectEnded(c, done, 0);
      },
    );
  }, CHAIN_TIMEOUT_MS);

  it('recover: the provider refuses the canary query, killed in shift, converge, unhold, recover, rollback and release → TERMINAL naming the refusal', async () => {
    const crashAt = [
      'task:shift:done',
      'task:converge:start',
      'task:unhold:before-write',
      'task:recover:start',
      'task:recover:before-write',
      'write:recover:after-write', // (task:recover:done cannot follow: the run started again finds the rollback decided)
      'task:rollback:done',
      'write:release:after-write', // released, its mark not yet removed: the sweeper removes it
    ];
    const steps = [{ setWeight: 20 }, { analysis: { template: TEMPLATE, interval: '10s', count: 1 } }, { setWeight: 100 }];
    await chain(
      () => startChain('recover', 'embedded', SERVICES.recover, steps, crashAt),
      async (c) => {
        const done = await c.node.driveToEnd(c.id, CHAIN_TIMEOUT_MS - 20_000);
        expect(done).toMatchObject({ status: 'TERMINAL', phase: 'ROLLED_BACK', result: { outcome: 'rolled back' } });
        expect(done.result!.reason).toMatch(/^ValidationError: metrics provider prom refused the query .*found duplicate series.*; rolled back$/);
        await expectEnded(c, done, 0);
      },
    );
  }, CHAIN_TIMEOUT_MS);
});
