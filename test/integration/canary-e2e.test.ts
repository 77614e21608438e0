/**
 * The canary end to end, on real parts: the local stack on DynamoDB Local running the real ASL
 * definition in-process (timed holds shortened), one real HAProxy 2.6 in front of two metered
 * backends per version, a real Prometheus scraping every backend each second, and traffic sent
 * through HAProxy while a deployment runs. Each scenario has its own service (own HAProxy
 * backend and frontend, own series), so none depends on another.
 *
 * Timing: every timed hold (a pause, an analysis interval) lasts WAIT_MS of real time, so a 10 s
 * analysis interval is about 6 s with the tasks around it: 6-8 points at one per second. The judge
 * needs 5 a side (with 4, Mann-Whitney's 98% interval can never exclude 0). Its window is real time
 * from the step's start; rate() over RANGE_SECONDS spans several 1 s scrapes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import type { LocalStateMachine } from '../../shared/adapters/workflow/local-state-machine.js';
import type { Deployment } from '../../shared/domain/deployment.js';
import { DependencyUnavailableError } from '../../shared/domain/errors.js';
import { hashToken } from '../../shared/http/auth.js';
import { createApiHandler } from '../../shared/http/routes.js';
import { nodeRequestListener } from '../../shared/platform/node-http.js';
import type { AuditLog } from '../../shared/ports/audit-log.js';
import type { DeploymentStore } from '../../shared/ports/deployment-store.js';
import { buildHttpDeps } from '../../shared/runtime/deps.js';
import { localWorkflow } from '../../shared/runtime/local-workflow.js';
import { startTraffic, type Traffic } from '../support/metered-backends.js';
import {
  auditOf,
  countOneTurn,
  FINISHED,
  goldenTemplate,
  haproxyShares,
  killHaproxy,
  pollUntil,
  settled,
  sleep,
  startCanaryRig,
  within,
  type AuditItem,
  type CanaryRig,
  type StatusDoc,
} from '../support/canary-rig.js';

const WAIT_MS = 6_000;
const RETRY_MS = 400;
const RANGE_SECONDS = 4;
const RPS = 150;

let rig: CanaryRig;
const traffic = new Map<string, Traffic>();

beforeAll(async () => {
  rig = await startCanaryRig({
    services: [
      { name: 'checkout', versions: [{ version: 'v1' }, { version: 'v2' }] },
      { name: 'payments', versions: [{ version: 'v1' }, { version: 'v2', errorPercent: 20 }] },
      { name: 'search', versions: [{ version: 'v1' }, { version: 'v2' }] },
      // Scraped by the second Prometheus only, which the test stops.
      { name: 'orders', versions: [{ version: 'v1' }, { version: 'v2' }], prometheus: ['prom-b'] },
      { name: 'cart', versions: [{ version: 'v1' }, { version: 'v2' }] },
    ],
    prometheus: ['prom', 'prom-b'],
    templates: [goldenTemplate('golden', 'prom', RANGE_SECONDS), goldenTemplate('golden-b', 'prom-b', RANGE_SECONDS)],
    waitMs: WAIT_MS,
    retryMs: RETRY_MS,
  });
}, 120_000);

afterAll(async () => {
  for (const t of traffic.values()) await t.stop();
  await rig?.stop();
}, 60_000);

function startLoad(service: string): void {
  traffic.set(service, startTraffic(rig.frontendPort(service), RPS));
}

async function stopLoad(service: string): Promise<Record<number, number>> {
  const t = traffic.get(service);
  traffic.delete(service);
  return t ? t.stop() : {};
}

async function create(body: Record<string, unknown>, base = ''): Promise<StatusDoc> {
  const answer = await rig.call<StatusDoc>('POST', `${base}/v1/deployments`, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body;
}

/** The lock is free: another deployment of the service is accepted (then canceled, and its run awaited). */
async function expectLockReleased(service: string, canary: string): Promise<void> {
  const next = await rig.call<StatusDoc>('POST', '/v1/deployments', { service, canary: { version: canary }, steps: [{ pause: {} }] });
  expect(next.status, JSON.stringify(next.body)).toBe(202);
  expect((await rig.call('POST', `/v1/deployments/${next.body.id}/cancel`)).status).toBe(200);
  expect(await settled(rig, next.body.id, 30_000)).toBe('succeeded');
}

/** What HAProxy serves is what the deployment says it serves. */
async function expectHaproxyToServe(service: string, weights: Record<string, number>): Promise<void> {
  expect((await haproxyShares(rig, service)).shares).toEqual(weights);
}

const shiftsOf = (events: AuditItem[]) => events.filter((e) => e.action === 'deployment.shift').map((e) => e.details.stepIndex);

describe('a healthy canary', () => {
  it('goes 5 → 25 → 50 → 100, HAProxy serving each step exactly, and is promoted with its judgments', async () => {
    await rig.register('checkout', 'v1');
    await rig.register('checkout', 'v2');
    startLoad('checkout');
    const { id } = await create({
      service: 'checkout',
      canary: { version: 'v2' },
      steps: [
        { setWeight: 5 },
        { analysis: { template: 'golden', interval: '10s', count: 2 } },
        { setWeight: 25 },
        { analysis: { template: 'golden', interval: '10s', count: 1 } },
        { setWeight: 50 },
        { pause: {} },
        { setWeight: 100 },
      ],
    });

    // A traffic step has converged once the step after it runs; each analysis holds the split for 10+ plan-seconds.
    const at5 = await pollUntil(rig, id, (d) => d.step.index >= 1 || FINISHED.includes(d.status), 30_000);
    expect(at5).toMatchObject({ status: 'RUNNING', phase: 'ANALYZING', step: { index: 1 }, weights: { aws: { v1: 95, v2: 5 } } });
    await expectHaproxyToServe('checkout', { v1: 95, v2: 5 });

    const at25 = await pollUntil(rig, id, (d) => d.step.index >= 3 || FINISHED.includes(d.status), 60_000);
    expect(at25).toMatchObject({ status: 'RUNNING', phase: 'ANALYZING', step: { index: 3 }, weights: { aws: { v1: 75, v2: 25 } } });
    await expectHaproxyToServe('checkout', { v1: 75, v2: 25 });

    // The manual gate after 50% holds the split as long as we like: count one whole turn of HAProxy's wheel.
    const at50 = await pollUntil(rig, id, (d) => (d.step.index >= 5 && d.phase === 'PAUSED') || FINISHED.includes(d.status), 60_000);
    expect(at50).toMatchObject({ status: 'RUNNING', phase: 'PAUSED', step: { index: 5 }, weights: { aws: { v1: 50, v2: 50 } } });
    await expectHaproxyToServe('checkout', { v1: 50, v2: 50 });
    const sent = await stopLoad('checkout');
    expect(sent[200]).toBeGreaterThan(0);
    const half = await countOneTurn(rig, 'checkout', 1);
    expect(half.counts).toEqual({ v1: half.turn / 2, v2: half.turn / 2 });

    expect((await rig.call('POST', `/v1/deployments/${id}/promote`)).status).toBe(200);
    const done = await pollUntil(rig, id, (d) => FINISHED.includes(d.status), 30_000);
    expect(await settled(rig, id, 30_000)).toBe('succeeded');

    expect(done).toMatchObject({ status: 'SUCCEEDED', phase: 'SUCCEEDED', weights: { aws: { v1: 0, v2: 100 } } });
    expect(done.result).toMatchObject({ outcome: 'promoted', weights: { aws: { v1: 0, v2: 100 } } });
    expect(done.result!.judgments.map((j) => [j.stepIndex, j.run, j.classification])).toEqual([
      [1, 0, 'Pass'],
      [1, 1, 'Pass'],
      [3, 0, 'Pass'],
    ]);
    for (const judgment of done.result!.judgments) expect(judgment.score).toBeGreaterThanOrEqual(70);
    await expectHaproxyToServe('checkout', { v1: 0, v2: 100 });
    const full = await countOneTurn(rig, 'checkout', 1);
    expect(full.counts).toEqual({ v2: full.turn });

    // Every traffic step was shifted once, in order; every judgment was recorded with its data.
    const events = await auditOf(rig, id);
    expect(shiftsOf(events)).toEqual([0, 2, 4, 6]);
    const judged = events.filter((e) => e.action === 'deployment.judge');
    expect(judged.map((e) => e.details.judgment?.summary.score)).toEqual(done.result!.judgments.map((j) => j.score));
    await expectLockReleased('checkout', 'v1');
  }, 120_000);
});

describe('a canary that fails its analysis', () => {
  it('is rolled back at the first judgment: baseline 100% in HAProxy, TERMINAL, the reason and the judgment recorded', async () => {
    await rig.register('payments', 'v1');
    await rig.register('payments', 'v2');
    startLoad('payments');
    const { id } = await create({
      service: 'payments',
      canary: { version: 'v2' },
      // The pause lets the canary's first errors reach Prometheus before the analysis' window opens: a point
      // at 0 among 5-7 would keep Mann-Whitney's 98% interval at 0, and the first judgment would pass.
      steps: [{ setWeight: 20 }, { pause: { duration: '4s' } }, { analysis: { template: 'golden', interval: '10s', count: 2 } }, { setWeight: 50 }, { setWeight: 100 }],
    });

    const at20 = await pollUntil(rig, id, (d) => d.step.index >= 1 || FINISHED.includes(d.status), 30_000);
    expect(at20).toMatchObject({ phase: 'PAUSED', weights: { aws: { v1: 80, v2: 20 } } });
    await expectHaproxyToServe('payments', { v1: 80, v2: 20 });

    const done = await pollUntil(rig, id, (d) => FINISHED.includes(d.status), 60_000);
    expect(await settled(rig, id, 30_000)).toBe('succeeded');
    const sent = await stopLoad('payments');
    expect(sent[500]).toBeGreaterThan(0);

    expect(done).toMatchObject({ status: 'TERMINAL', phase: 'ROLLED_BACK', step: { index: 2 }, weights: { aws: { v1: 100, v2: 0 } } });
    expect(done.result).toMatchObject({ outcome: 'rolled back', weights: { aws: { v1: 100, v2: 0 } } });
    expect(done.result!.reason).toMatch(/^analysis 3\/5 failed: judgment 1 scored 0/);
    expect(done.result!.reason).toContain('error-ratio: High');
    expect(done.result!.judgments).toEqual([expect.objectContaining({ stepIndex: 2, run: 0, score: 0, classification: 'Fail' })]);

    await expectHaproxyToServe('payments', { v1: 100, v2: 0 });
    const counted = await countOneTurn(rig, 'payments', 1);
    expect(counted.counts).toEqual({ v1: counted.turn });

    // The judgment's audit event keeps its inputs: the series, the thresholds, the score, and why.
    const events = await auditOf(rig, id);
    const judgments = events.filter((e) => e.action === 'deployment.judge');
    expect(judgments).toHaveLength(1);
    const judged = judgments[0]!.details;
    expect(judged.verdict).toMatchObject({ status: 'failed', score: 0 });
    expect(judged.judgment!.summary).toMatchObject({ score: 0, classification: 'Fail', thresholds: { pass: 70, marginal: 50 }, override: { kind: 'critical-failure', metric: 'error-ratio' } });
    const errorRatio = judged.inputs!.find((i) => i.metric === 'error-ratio')!;
    expect(errorRatio.queries.canary).toContain('version="v2"');
    expect(errorRatio.baseline.filter((v) => v === 0).length).toBeGreaterThanOrEqual(5);
    const canaryRatios = errorRatio.canary.filter((v): v is number => typeof v === 'number');
    expect(canaryRatios.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...canaryRatios)).toBeGreaterThan(0.1);
    expect(judged.judgment!.metrics.find((m) => m.metric === 'error-ratio')).toMatchObject({ label: 'High', critical: true });
    expect(events.at(-1)).toMatchObject({ action: 'deployment.release' });
    expect(events.filter((e) => e.action === 'deployment.rollback')).toHaveLength(1);
    await expectLockReleased('payments', 'v2');
  }, 90_000);
});

describe('faults', () => {
  it('HAProxy down: a short outage is ridden out by the shift’s retries; a long one ends in a rollback that completes once HAProxy is back', async () => {
    await rig.register('search', 'v1');
    await rig.register('search', 'v2');
    startLoad('search');
    const { id } = await create({
      service: 'search',
      canary: { version: 'v2' },
      steps: [{ setWeight: 10 }, { pause: { duration: '4s' } }, { setWeight: 50 }, { pause: { duration: '4s' } }, { setWeight: 100 }],
    });

    // Short: down during the pause, still down when the 50% shift starts, back 1.5 s later (the shift retries for about 5 s).
    await pollUntil(rig, id, (d) => (d.step.index === 1 && d.phase === 'PAUSED') || FINISHED.includes(d.status), 30_000);
    await expectHaproxyToServe('search', { v1: 90, v2: 10 });
    await killHaproxy(rig.haproxy);
    await pollUntil(rig, id, (d) => d.step.index >= 2 || FINISHED.includes(d.status), 30_000);
    await sleep(1_500);
    await rig.haproxy.restart(); // from its config: the backend is empty, the retried shift puts every server back
    const at50 = await pollUntil(rig, id, (d) => d.step.index >= 3 || FINISHED.includes(d.status), 30_000);
    expect(at50).toMatchObject({ status: 'RUNNING', phase: 'PAUSED', step: { index: 3 }, weights: { aws: { v1: 50, v2: 50 } } });
    await expectHaproxyToServe('search', { v1: 50, v2: 50 });

    // Long: down through every retry of the 100% shift; the run rolls back, and the rollback retries until HAProxy is back.
    await killHaproxy(rig.haproxy);
    const rollingBack = await pollUntil(rig, id, (d) => d.phase === 'ROLLING_BACK' || FINISHED.includes(d.status), 60_000);
    expect(rollingBack).toMatchObject({ status: 'RUNNING', phase: 'ROLLING_BACK', step: { index: 4 } });
    await sleep(1_000);
    await rig.haproxy.restart();
    const done = await pollUntil(rig, id, (d) => FINISHED.includes(d.status), 60_000);
    expect(await settled(rig, id, 30_000)).toBe('succeeded');
    await stopLoad('search');

    expect(done).toMatchObject({ status: 'TERMINAL', phase: 'ROLLED_BACK', step: { index: 4 }, weights: { aws: { v1: 100, v2: 0 } } });
    expect(done.result).toMatchObject({ outcome: 'rolled back', weights: { aws: { v1: 100, v2: 0 } } });
    expect(done.result!.reason).toContain('DependencyUnavailableError');
    expect(done.result!.reason).toContain('HAProxy edge-1');
    await expectHaproxyToServe('search', { v1: 100, v2: 0 });
    const counted = await countOneTurn(rig, 'search', 1);
    expect(counted.counts).toEqual({ v1: counted.turn });

    const events = await auditOf(rig, id);
    expect(shiftsOf(events)).toEqual([0, 2]);
    expect(events.find((e) => e.action === 'deployment.recover')).toMatchObject({ details: { phase: 'ROLLING_BACK', error: { Error: 'DependencyUnavailableError' } } });
    await expectLockReleased('search', 'v2');
  }, 120_000);

  it('Prometheus stopped: the error ratio has no data, its `wait` policy defers once, then fails it; the audit says why', async () => {
    await rig.register('orders', 'v1');
    await rig.register('orders', 'v2');
    startLoad('orders');
    const { id } = await create({
      service: 'orders',
      canary: { version: 'v2' },
      steps: [{ setWeight: 20 }, { analysis: { template: 'golden-b', interval: '10s', count: 1 } }, { setWeight: 100 }],
    });

    await pollUntil(rig, id, (d) => d.step.index >= 1 || FINISHED.includes(d.status), 30_000);
    await rig.prometheus.get('prom-b')!.stop();
    const done = await pollUntil(rig, id, (d) => FINISHED.includes(d.status), 60_000);
    expect(await settled(rig, id, 30_000)).toBe('succeeded');
    await stopLoad('orders');

    expect(done).toMatchObject({ status: 'TERMINAL', phase: 'ROLLED_BACK', step: { index: 1 }, weights: { aws: { v1: 100, v2: 0 } } });
    expect(done.result!.reason).toMatch(/^analysis 2\/3 failed: judgment 1 scored 0/);
    expect(done.result!.reason).toContain('error-ratio');
    await expectHaproxyToServe('orders', { v1: 100, v2: 0 });

    const judgments = (await auditOf(rig, id)).filter((e) => e.action === 'deployment.judge');
    expect(judgments).toHaveLength(2);
    const [deferred, failed] = judgments.map((e) => e.details);
    expect(deferred!.deferred).toBe('no data yet for error-ratio');
    for (const details of [deferred!, failed!]) {
      for (const input of details.inputs!) {
        expect(input).toMatchObject({ provider: 'prom-b', baseline: [], canary: [] });
        expect(input.unavailable).toMatch(/metrics provider prom-b .*ECONNREFUSED/);
      }
      expect(details.inputs!.map((i) => i.noDataPolicy)).toEqual(['wait', 'ignore']);
    }
    expect(failed!.judgment!.summary).toMatchObject({ score: 0, override: { kind: 'critical-failure', metric: 'error-ratio' } });
    expect(failed!.judgment!.summary.reason).toMatch(/^Canary Failed: critical metric error-ratio: .*no data/);
    expect(failed!.judgment!.metrics.map((m) => [m.metric, m.label])).toEqual([
      ['error-ratio', 'Nodata'],
      ['latency-p99', 'Nodata'],
    ]);
  }, 90_000);
});

describe('a task that crashes', () => {
  let server: Server;
  let base: string;
  let runner: LocalStateMachine | undefined;
  const crashes: { stepIndex: number; when: string; haproxy: Record<string, number> }[] = [];
  const crashedAt = (stepIndex: number) => crashes.some((c) => c.stepIndex === stepIndex);

  /** The canary's deployment store: the save of step 0's shift fails once, before anything is written. */
  function crashingStore(store: DeploymentStore): DeploymentStore {
    return {
      createIfAbsent: (d) => store.createIfAbsent(d),
      get: (id) => store.get(id),
      list: (query) => store.list(query),
      noteRetry: (id, note) => store.noteRetry(id, note),
      deleteUnstarted: (id) => store.deleteUnstarted(id),
      async update(next: Deployment) {
        if (next.service === 'cart' && next.phase === 'CONVERGING' && next.run.shifted && next.stepIndex === 0 && !crashedAt(0)) {
          crashes.push({ stepIndex: 0, when: 'after applying, before saving', haproxy: (await haproxyShares(rig, 'cart')).shares });
          throw new DependencyUnavailableError('deployment store', 'update deployment (a crash injected by the test)');
        }
        await store.update(next);
      },
    };
  }

  /** The canary's audit log: the task that recorded step 2's shift dies right after, before answering. */
  function crashingAudit(audit: AuditLog): AuditLog {
    return {
      list: (subject, page) => audit.list(subject, page),
      async append(event) {
        await audit.append(event);
        if (event.action === 'deployment.shift' && event.subject.startsWith('deployment/') && event.details['stepIndex'] === 2 && !crashedAt(2)) {
          crashes.push({ stepIndex: 2, when: 'after applying, saving and recording', haproxy: (await haproxyShares(rig, 'cart')).shares });
          throw new DependencyUnavailableError('canary task', 'answer (a crash injected by the test)');
        }
      },
    };
  }

  beforeAll(async () => {
    const env = rig.env;
    const table = createTableHandle(
      { region: 'us-east-1', endpoint: env['CROSSFADE_DYNAMODB_ENDPOINT'], credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID']!, secretAccessKey: env['AWS_SECRET_ACCESS_KEY']! } },
      env['CROSSFADE_TABLE']!,
    );
    // The same table and configuration as the stack, with a runner of our own whose stores crash on cue.
    const deps = buildHttpDeps({
      env,
      configRequired: true,
      table,
      extraTokens: [{ id: 'test-admin', sha256: hashToken(rig.stack.adminToken), scopes: [{ kind: 'admin' }] }],
      workflow: (built) =>
        (runner = localWorkflow({ ...built, deployments: crashingStore(built.deployments), audit: crashingAudit(built.audit) }, { waitMs: WAIT_MS, retryMs: RETRY_MS })),
    });
    server = createServer(nodeRequestListener(createApiHandler(deps), 'http://127.0.0.1'));
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    runner?.stop();
    await new Promise<void>((closed) => {
      server?.close(() => closed());
      server?.closeAllConnections();
    });
  });

  it('after applying weights (before saving, or after saving and recording): the task is retried, and no step is skipped or repeated', async () => {
    await rig.register('cart', 'v1');
    await rig.register('cart', 'v2');
    startLoad('cart');
    const { id } = await create(
      { service: 'cart', canary: { version: 'v2' }, steps: [{ setWeight: 10 }, { pause: { duration: '2s' } }, { setWeight: 50 }, { pause: { duration: '2s' } }, { setWeight: 100 }] },
      base,
    );
    expect(await within(runner!.settled(id), 60_000, 'the run')).toBe('succeeded');
    await stopLoad('cart');

    // Both crashes happened with the step's weights already in HAProxy.
    expect(crashes).toEqual([
      { stepIndex: 0, when: 'after applying, before saving', haproxy: { v1: 90, v2: 10 } },
      { stepIndex: 2, when: 'after applying, saving and recording', haproxy: { v1: 50, v2: 50 } },
    ]);
    const done = (await rig.call<StatusDoc>('GET', `${base}/v1/deployments/${id}`)).body;
    expect(done).toMatchObject({ status: 'SUCCEEDED', phase: 'SUCCEEDED', weights: { aws: { v1: 0, v2: 100 } } });
    await expectHaproxyToServe('cart', { v1: 0, v2: 100 });

    // Every step in order, each once: one shift per traffic step, one convergence moving to the next step, one hold (opened, closed) per pause.
    const events = await auditOf(rig, id);
    expect(events.map((e) => [e.action.replace('deployment.', ''), e.details['stepIndex'] ?? null])).toEqual([
      ['created', null],
      ['prepare', 0],
      ['shift', 0],
      ['converge', 1],
      ['hold', 1],
      ['unhold', 2],
      ['shift', 2],
      ['converge', 3],
      ['hold', 3],
      ['unhold', 4],
      ['shift', 4],
      ['converge', 5],
      ['promote', 5],
      ['release', 5],
    ]);
    // Versions without gaps: every write the run made is in the timeline.
    expect(events.map((e) => Number(e.eventId.slice(1, 7)))).toEqual(events.map((_, i) => i + 1));
  }, 90_000);
});
