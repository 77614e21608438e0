/**
 * Orca's webhook stage played against the local stack over HTTP (its monitor and cancel tasks, and
 * what a server must do for them), with a stage configured
 * as docs/ recommends: create with `X-Idempotency-Key: <executionId>-<stageId>`, status URL from
 * the Location header, `statusJsonPath: $.status`, `progressJsonPath: $.progress`, successStatuses
 * SUCCEEDED, terminalStatuses TERMINAL, canceledStatuses CANCELED, and the deployment's cancelUrl
 * as cancelEndpoint.
 *
 * The canaries are real: HAProxy in front of metered backends, Prometheus scraping them, traffic
 * through HAProxy, the canary state machine in-process with shortened waits (canary-rig.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTraffic, type Traffic } from '../support/metered-backends.js';
import { auditOf, goldenTemplate, haproxyShares, settled, sleep, startCanaryRig, type Answer, type CanaryRig, type StatusDoc } from '../support/canary-rig.js';

const SPINNAKER_TOKEN = 'cf_test_spinnaker_pipeline_0123456789';
const POLL_MS = 200;
const STATUSES = ['NOT_STARTED', 'RUNNING', 'SUCCEEDED', 'TERMINAL', 'CANCELED'];

let rig: CanaryRig;
const traffic: Traffic[] = [];

beforeAll(async () => {
  rig = await startCanaryRig({
    services: [
      { name: 'spin-ok', versions: [{ version: 'v1' }, { version: 'v2' }] },
      { name: 'spin-bad', versions: [{ version: 'v1' }, { version: 'v2', errorPercent: 20 }] },
      { name: 'spin-cancel', versions: [{ version: 'v1' }, { version: 'v2' }] },
      { name: 'spin-gate', versions: [{ version: 'v1' }, { version: 'v2' }] },
    ],
    prometheus: ['prom'],
    templates: [goldenTemplate('golden', 'prom', 4)],
    // A timed hold (a 10 s interval) lasts 6 s: enough points for the judge (see canary-e2e.test.ts).
    waitMs: 6_000,
    retryMs: 300,
    tokens: [{ id: 'spinnaker', token: SPINNAKER_TOKEN, scopes: ['deploy:spin-*'] }],
  });
  for (const service of ['spin-ok', 'spin-bad', 'spin-cancel', 'spin-gate']) {
    await rig.register(service, 'v1');
    await rig.register(service, 'v2');
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(traffic.map((t) => t.stop()));
  await rig?.stop();
}, 60_000);

/** What Orca sends on every call of the stage: its custom headers (an app-level token). */
const asOrca = { token: SPINNAKER_TOKEN };

/** The stage's status mapping: RUNNING for anything unmatched. */
function orcaStatusOf(status: string): 'SUCCEEDED' | 'TERMINAL' | 'CANCELED' | 'RUNNING' {
  return status === 'SUCCEEDED' || status === 'TERMINAL' || status === 'CANCELED' ? status : 'RUNNING';
}

interface StageRun {
  id: string;
  location: string;
  polls: StatusDoc[];
  final: StatusDoc;
  stage: 'SUCCEEDED' | 'TERMINAL' | 'CANCELED';
  /** Orca's own cancel call after a TERMINAL or CANCELED end. */
  cancelAfterEnd?: Answer<StatusDoc>;
}

/**
 * One webhook stage: create (and a replay of it, as a 502 or a re-POST makes Orca send), then a
 * GET of the Location every POLL_MS, checking on every answer what Orca's monitor checks, until
 * the mapped status is not RUNNING; then the cancel Orca sends on a failed or canceled stage.
 * `onPoll` plays the user and operators between polls.
 */
async function runStage(service: string, steps: unknown[], onPoll: (doc: StatusDoc) => Promise<void> = async () => {}, timeoutMs = 60_000): Promise<StageRun> {
  const executionId = `01J${service.toUpperCase().replace('-', '')}EXEC`;
  const stageId = '3';
  const body = {
    service,
    canary: { version: 'v2' },
    steps,
    spinnaker: { executionId, stageId, application: service, pipeline: 'deploy-prod' },
  };
  const headers = { 'x-idempotency-key': `${executionId}-${stageId}` };
  const created = await rig.call<StatusDoc>('POST', '/v1/deployments', body, { ...asOrca, headers });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  expect(created.headers['content-type']).toBe('application/json; charset=utf-8');
  const location = created.headers['location']!;
  expect(location).toBe(`${rig.stack.url}/v1/deployments/${created.body.id}`);
  expect(created.body).toMatchObject({ id: expect.stringMatching(/^dep_/), service, statusUrl: location, cancelUrl: `${location}/cancel` });
  expect(STATUSES).toContain(created.body.status);
  expect(typeof created.body.progress).toBe('string');

  // Orca re-POSTs after a 502 or a timeout: the same key and body (here as a preconfigured stage sends it, text/plain) replay the first answer.
  const replay = await rig.call<StatusDoc>('POST', '/v1/deployments', body, { ...asOrca, headers: { ...headers, 'content-type': 'text/plain;charset=ISO-8859-1' } });
  expect(replay.status).toBe(202);
  expect(replay.headers['location']).toBe(location);
  expect(replay.body.id).toBe(created.body.id);

  const polls: StatusDoc[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await rig.call<StatusDoc>('GET', location, undefined, asOrca);
    // What would make Orca's monitor end the stage TERMINAL on its own.
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(typeof answer.body.status).toBe('string');
    expect(STATUSES).toContain(answer.body.status);
    expect(typeof answer.body.progress).toBe('string');
    expect(answer.body.progress.length).toBeGreaterThan(0);
    polls.push(answer.body);
    const stage = orcaStatusOf(answer.body.status);
    if (stage !== 'RUNNING') {
      const run: StageRun = { id: created.body.id, location, polls, final: answer.body, stage };
      if (stage !== 'SUCCEEDED') {
        run.cancelAfterEnd = await rig.call<StatusDoc>('POST', answer.body.cancelUrl, undefined, asOrca);
        expect(run.cancelAfterEnd.status).toBe(200);
        expect(run.cancelAfterEnd.body.status).toBe(stage);
      }
      return run;
    }
    if (Date.now() > deadline) throw new Error(`stage still RUNNING after ${timeoutMs} ms: ${JSON.stringify(answer.body)}`);
    await onPoll(answer.body);
    await sleep(POLL_MS);
  }
}

/** After the run: a cancel (a late one from Orca, or a user's) answers 200 and changes nothing. */
async function expectCancelToChangeNothing(id: string): Promise<void> {
  const before = await rig.call<StatusDoc>('GET', `/v1/deployments/${id}`, undefined, asOrca);
  const eventsBefore = await auditOf(rig, id);
  const cancel = await rig.call<StatusDoc>('POST', `/v1/deployments/${id}/cancel`, undefined, asOrca);
  expect(cancel.status).toBe(200);
  expect(cancel.body).toEqual(before.body);
  expect(await auditOf(rig, id)).toEqual(eventsBefore);
}

function withLoad(service: string): void {
  traffic.push(startTraffic(rig.frontendPort(service), 150));
}

describe('Orca webhook stage', () => {
  it('a healthy canary: RUNNING with progress on every poll, then SUCCEEDED with the judgments in result', async () => {
    withLoad('spin-ok');
    const run = await runStage('spin-ok', [{ setWeight: 10 }, { analysis: { template: 'golden', interval: '10s', count: 1 } }, { setWeight: 100 }]);
    expect(await settled(rig, run.id, 30_000)).toBe('succeeded');

    expect(run.stage).toBe('SUCCEEDED');
    expect(run.final).toMatchObject({ phase: 'SUCCEEDED', progress: 'promoted: v2 serves 100%', weights: { aws: { v1: 0, v2: 100 } } });
    expect(run.final.result).toMatchObject({ outcome: 'promoted', judgments: [{ stepIndex: 1, classification: 'Pass' }] });
    // Orca polled through the run and saw it move (about every 200 ms, so at least the analysis' seconds).
    expect(run.polls.length).toBeGreaterThan(10);
    // Orca shows `progress` as is: during the analysis it counts the judgments (docs/api.md: "analysis 2/5, score 100").
    expect(run.polls.map((p) => p.progress).some((text) => /^step 2\/3: analysis \d\/\d/.test(text))).toBe(true);
    // NOT_STARTED (which Orca keeps polling on) only before the run's first task, then RUNNING until the end.
    const before = run.polls.slice(0, -1).map((p) => p.status);
    expect(before.slice(before.indexOf('RUNNING'))).toEqual(before.slice(before.indexOf('RUNNING')).map(() => 'RUNNING'));
    expect(before.slice(0, before.indexOf('RUNNING')).every((s) => s === 'NOT_STARTED')).toBe(true);
    expect((await haproxyShares(rig, 'spin-ok')).shares).toEqual({ v1: 0, v2: 100 });
  }, 90_000);

  it('a failing canary: TERMINAL with the reason in result; the cancel Orca then sends answers 200 and changes nothing', async () => {
    withLoad('spin-bad');
    // The pause lets the canary's errors reach Prometheus before the analysis' window opens (canary-e2e.test.ts says why).
    const run = await runStage('spin-bad', [{ setWeight: 20 }, { pause: { duration: '4s' } }, { analysis: { template: 'golden', interval: '10s', count: 2 } }, { setWeight: 100 }]);
    expect(await settled(rig, run.id, 30_000)).toBe('succeeded');

    expect(run.stage).toBe('TERMINAL');
    expect(run.final).toMatchObject({ phase: 'ROLLED_BACK', weights: { aws: { v1: 100, v2: 0 } } });
    // The reason reaches the pipeline's view too, not only `result`.
    expect(run.final.progress).toMatch(/^rolled back at step 3\/4: analysis 3\/4 failed: .*error-ratio: High/);
    expect(run.final.result).toMatchObject({ outcome: 'rolled back', judgments: [{ stepIndex: 2, score: 0, classification: 'Fail' }] });
    expect(run.final.result!.reason).toContain('error-ratio: High');
    expect(run.cancelAfterEnd!.body).toMatchObject({ status: 'TERMINAL', phase: 'ROLLED_BACK', result: run.final.result });
    expect((await auditOf(rig, run.id)).filter((e) => e.action === 'deployment.cancel')).toEqual([]);
    await expectCancelToChangeNothing(run.id);
    expect((await haproxyShares(rig, 'spin-bad')).shares).toEqual({ v1: 100, v2: 0 });
  }, 90_000);

  it('a user cancel while analyzing: CANCELED, traffic back on the baseline; a second cancel and a cancel after the end change nothing', async () => {
    withLoad('spin-cancel');
    let first: Answer<StatusDoc> | undefined;
    let second: Answer<StatusDoc> | undefined;
    const run = await runStage('spin-cancel', [{ setWeight: 10 }, { analysis: { template: 'golden', interval: '10s', count: 2 } }, { setWeight: 100 }], async (doc) => {
      if (first !== undefined || doc.phase !== 'ANALYZING') return;
      // The user cancels the execution: Orca's MonitorWebhookTask.onCancel calls the cancel endpoint, sometimes twice.
      first = await rig.call<StatusDoc>('POST', doc.cancelUrl, undefined, asOrca);
      second = await rig.call<StatusDoc>('POST', doc.cancelUrl, undefined, asOrca);
    });
    expect(await settled(rig, run.id, 30_000)).toBe('succeeded');

    expect(first).toMatchObject({ status: 200, body: { status: 'RUNNING', phase: 'ROLLING_BACK' } });
    expect(second!.status).toBe(200);
    const events = await auditOf(rig, run.id);
    expect(events.filter((e) => e.action === 'deployment.cancel')).toEqual([
      expect.objectContaining({ actor: 'spinnaker', at: first!.body.updatedAt, details: expect.objectContaining({ phase: 'ROLLING_BACK', stepIndex: 1 }) }),
    ]);
    // The second cancel wrote nothing: its answer is the first one's, unless the run itself wrote in between.
    if (second!.body.updatedAt !== first!.body.updatedAt) {
      expect(events.find((e) => e.at === second!.body.updatedAt)).toMatchObject({ actor: 'crossfade-canary' });
    } else {
      expect(second!.body).toEqual(first!.body);
    }

    expect(run.stage).toBe('CANCELED');
    expect(run.final).toMatchObject({ phase: 'CANCELED', progress: 'canceled at step 2/3 by spinnaker', weights: { aws: { v1: 100, v2: 0 } } });
    expect(run.final.result).toMatchObject({ outcome: 'canceled', reason: 'canceled by spinnaker' });
    expect(run.cancelAfterEnd!.body).toMatchObject({ status: 'CANCELED', phase: 'CANCELED' });
    await expectCancelToChangeNothing(run.id);
    expect((await haproxyShares(rig, 'spin-cancel')).shares).toEqual({ v1: 100, v2: 0 });
  }, 90_000);

  it('a manual gate: RUNNING and PAUSED for as long as nobody promotes, then SUCCEEDED after POST promote', async () => {
    let pausedPolls = 0;
    let promoted: Answer<StatusDoc> | undefined;
    const run = await runStage('spin-gate', [{ setWeight: 10 }, { pause: {} }, { setWeight: 100 }], async (doc) => {
      if (promoted !== undefined) return;
      if (doc.phase === 'PAUSED') pausedPolls++;
      // Ten polls at the gate (2 s): it holds, at 10%.
      if (pausedPolls === 10) {
        expect((await haproxyShares(rig, 'spin-gate')).shares).toEqual({ v1: 90, v2: 10 });
        promoted = await rig.call<StatusDoc>('POST', `${doc.statusUrl}/promote`, {}, asOrca);
      }
    });
    expect(await settled(rig, run.id, 30_000)).toBe('succeeded');

    const atGate = run.polls.filter((p) => p.phase === 'PAUSED');
    expect(atGate.length).toBeGreaterThanOrEqual(10);
    for (const doc of atGate) expect(doc).toMatchObject({ status: 'RUNNING', step: { index: 1, count: 3 }, progress: 'step 2/3: waiting for promote (manual gate)', weights: { aws: { v1: 90, v2: 10 } } });
    expect(promoted).toMatchObject({ status: 200, body: { status: 'RUNNING', step: { index: 2 } } });
    expect(run.stage).toBe('SUCCEEDED');
    expect(run.final).toMatchObject({ phase: 'SUCCEEDED', weights: { aws: { v1: 0, v2: 100 } } });
    expect((await haproxyShares(rig, 'spin-gate')).shares).toEqual({ v1: 0, v2: 100 });
  }, 90_000);
});
