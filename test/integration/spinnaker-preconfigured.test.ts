/**
 * The shipped spinnaker/orca-local.yml, played as Orca plays it (test/support/orca.ts) against a
 * real `npm start`: its placeholders filled as Spring and SpEL fill them, every create's payload
 * sent as `text/plain;charset=ISO-8859-1` with a non-ASCII reason, the token in its sensitive
 * header. The canary judges a fake Prometheus whose canary and baseline agree (a pass); the one
 * proxy group lists no proxies, so traffic is written and published, never waited on.
 * - success: a blue-green canary waits at its gate; the crossfadePromote stage, its URL naming the
 *   canary stage's deployment through #stage(...), passes it → SUCCEEDED, the canary at 100%;
 * - a user cancel while monitoring: one cancel request, to the by-key cancelEndpoint → CANCELED,
 *   the baseline at 100%;
 * - a cancel while the create is retried on 503 (no cancel is sent then): nothing runs;
 * - a create that landed and whose answer was lost: the stage fails, the by-key cancel arrives,
 *   the deployment ends CANCELED, nothing runs;
 * - a cancel that comes before its create (a create held on its way): the create is 409, nothing runs;
 * - the policy check before the canary (a freeze for services `spin-frozen-*`, required analysis in
 *   prod): its payload is the canary's; allowed → SUCCEEDED, denied → TERMINAL with the reason.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../shared/http/auth.js';
import { startFakePrometheus, type FakePrometheus } from '../support/fake-clouds/prometheus.js';
import { killLocalProcesses, startStack, waitFor } from '../support/local-process.js';
import { loadPreconfigured, playStage, resolveStage, type PreconfiguredStage, type SpelContext, type StageRun } from '../support/orca.js';

const SHIPPED_BASE = 'https://crossfade.example.com';
const SPINNAKER_TOKEN = `cf_spinnaker_${randomUUID()}`;
const ADMIN_TOKEN = `cf_admin_${randomUUID()}`;
const REASON = 'Déploiement canari à 50 %';
const STAGES = loadPreconfigured(readFileSync('spinnaker/orca-local.yml', 'utf8'));
/** Orca's timing, shortened: create retries and polls every 150 ms, a 3 s read timeout. */
const TIMING = { backoffMs: 150, timeoutMs: 3_000, deadlineMs: 90_000 };

let prometheus: FakePrometheus;
let crossfade: string;
/** What the proxy in front of crossfade does to the next creates (a gateway's 503, a lost answer, a held request). */
let createMode: 'forward' | 'answer-503' | 'drop-answer' | 'hold' = 'forward';
let held: (() => void) | undefined;
let proxy: Server;
let proxied: string;

beforeAll(async () => {
  // The same series for canary and baseline: every judgment passes.
  prometheus = await startFakePrometheus({ range: () => ({ values: Array.from({ length: 12 }, (_, i) => 0.01 + (i % 3) / 1000) }) });
  const config = {
    clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
    proxyGroups: [{ name: 'edge-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1' }],
    tokens: [{ id: 'spinnaker', sha256: hashToken(SPINNAKER_TOKEN), scopes: ['deploy:*'] }],
    policy: {
      rules: [
        { name: 'millennium', kind: 'freeze-window', services: ['spin-frozen-*'], timeZone: 'UTC', once: { start: '2000-01-01T00:00', end: '2100-01-01T00:00' } },
        { name: 'prod-analysis', kind: 'required-analysis', environments: ['prod'], minJudgments: 1 },
      ],
    },
    analysis: {
      providers: [{ name: 'prom', kind: 'prometheus', url: prometheus.url }],
      templates: [
        {
          name: 'golden',
          stepSeconds: 1,
          thresholds: { pass: 70, marginal: 50 },
          groupWeights: { errors: 100 },
          metrics: [{ name: 'error-ratio', group: 'errors', provider: 'prom', query: 'sum(rate(http_requests_total{service="{{service}}",version="{{version}}",code=~"5.."}[30s]))', direction: 'increase', critical: true, noData: 'fail', spreadCheck: false }],
        },
      ],
    },
  };
  ({ url: crossfade } = await startStack({ label: 'spinnaker', config, adminToken: ADMIN_TOKEN, env: { CROSSFADE_LOCAL_WAIT_MS: '300', CROSSFADE_LOCAL_RETRY_MS: '500' } }));
  proxy = createServer((incoming, outgoing) => {
    const isCreate = incoming.method === 'POST' && incoming.url === '/v1/deployments';
    const mode = isCreate ? createMode : 'forward';
    if (mode === 'answer-503') {
      incoming.resume();
      outgoing.writeHead(503, { 'content-type': 'application/json; charset=utf-8' }).end('{"message":"Service Unavailable"}');
      return;
    }
    const pass = () => {
      const upstream = forward(`${crossfade}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
        if (mode === 'drop-answer') {
          answer.resume();
          answer.on('end', () => outgoing.socket?.destroy()); // it landed; the caller never hears
          return;
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      upstream.on('error', () => outgoing.destroy());
      upstream.end(body);
    };
    const chunks: Buffer[] = [];
    let body: Buffer;
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      body = Buffer.concat(chunks);
      if (mode === 'hold') held = pass;
      else pass();
    });
  });
  await new Promise<void>((listening) => proxy.listen(0, '127.0.0.1', listening));
  proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 90_000);

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((closed) => proxy?.close(closed));
  killLocalProcesses();
  await prometheus?.stop();
});

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${crossfade}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as T };
}

/** A service with v1 (serving 100%) and v2 registered, each on one explicit endpoint. */
async function serviceWithTwoVersions(prefix = 'spin'): Promise<string> {
  const service = `${prefix}-${randomUUID().slice(0, 8)}`;
  for (const [index, version] of ['v1', 'v2'].entries()) {
    const answer = await admin('PUT', `/v1/services/${service}/versions/${version}`, { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `10.0.0.${index + 1}`, port: 8080 }] }] });
    expect(answer.status).toBe(201);
  }
  return service;
}

/** One execution's SpEL context; `stages` grows as its stages run. */
function execution(parameterValues: Record<string, string>): SpelContext {
  return { env: { CROSSFADE_TOKEN: SPINNAKER_TOKEN }, execution: { id: `01J${randomUUID().replaceAll('-', '').slice(0, 23).toUpperCase()}`, application: 'checkout', name: 'deploy-prod' }, stageId: randomUUID().slice(0, 8), parameterValues, stages: {} };
}

function stage(type: string, context: SpelContext, base: string = crossfade): PreconfiguredStage {
  return resolveStage(STAGES.get(type)!, context, { from: SHIPPED_BASE, to: base });
}

function canaryParameters(service: string, strategy: string, environment = 'staging'): Record<string, string> {
  return { service, environment, canaryVersion: 'v2', strategy, analysisTemplate: 'golden', analysisInterval: '10s', analysisCount: '1', reason: REASON };
}

/** Nothing of `service` is unfinished: no NOT_STARTED or RUNNING deployment, and the services listing names none. */
async function expectNothingRunning(service: string): Promise<void> {
  for (const status of ['NOT_STARTED', 'RUNNING']) expect((await admin<{ items: unknown[] }>('GET', `/v1/deployments?service=${service}&status=${status}`)).body.items).toEqual([]);
  const listed = await admin<{ items: { service: string; deployment: unknown }[] }>('GET', '/v1/services?limit=100');
  expect(listed.body.items.find((item) => item.service === service)).toMatchObject({ deployment: null });
}

/** The registry's split of the one proxy group: all on v1. */
async function expectBaselineServing(service: string): Promise<void> {
  const view = await admin<{ weights: Record<string, Record<string, number>> }>('GET', `/v1/services/${service}`);
  expect(view.body.weights).toEqual({ 'edge-use1': { v1: 100, v2: 0 } });
}

/** The deployment's end, as the API says it once its run released. */
async function finalOf(id: string): Promise<Record<string, unknown>> {
  await waitFor(async () => ['SUCCEEDED', 'TERMINAL', 'CANCELED'].includes((await admin<{ status: string }>('GET', `/v1/deployments/${id}`)).body.status), 30_000, `deployment ${id} to end`);
  return (await admin('GET', `/v1/deployments/${id}`)).body;
}

async function createdEventOf(id: string): Promise<{ reason: string; actor: string }> {
  const events = await admin<{ items: { action: string; reason: string; actor: string }[] }>('GET', `/v1/deployments/${id}/events`);
  return events.body.items.find((event) => event.action === 'deployment.created')!;
}

describe('the shipped orca-local.yml, played by an Orca-like client against npm start', () => {
  it('declares the five stages with every field the protocol needs', () => {
    expect([...STAGES.keys()]).toEqual(['crossfadePolicyCheck', 'crossfadeCanary', 'crossfadeRegister', 'crossfadePromote', 'crossfadeRollback']);
    const canary = STAGES.get('crossfadeCanary')!;
    expect(canary).toMatchObject({ statusJsonPath: '$.status', progressJsonPath: '$.progress', successStatuses: 'SUCCEEDED', canceledStatuses: 'CANCELED', terminalStatuses: 'TERMINAL', statusUrlResolution: 'locationHeader', waitForCompletion: true, cancelMethod: 'POST' });
    expect(canary.customHeaders!['X-Idempotency-Key']).toEqual(["${execution.id}-${#currentStage()['id']}"]);
    expect(canary.cancelEndpoint).toBe(`${SHIPPED_BASE}/v1/deployments/by-key/\${execution.id}-\${#currentStage()['id']}/cancel`);
    for (const shipped of STAGES.values()) {
      expect(typeof shipped.payload).toBe('string');
      expect(shipped.sensitiveHeaders).toEqual({ Authorization: ['Bearer ${CROSSFADE_TOKEN}'] });
    }
    const check = STAGES.get('crossfadePolicyCheck')!;
    expect(check).toMatchObject({ method: 'POST', waitForCompletion: true, statusUrlResolution: 'webhookResponse', statusUrlJsonPath: '$.statusUrl', statusJsonPath: '$.status', progressJsonPath: '$.progress', successStatuses: 'ALLOWED', terminalStatuses: 'DENIED' });
    // The check judges exactly the create the canary stage sends: the same parameters make the same body.
    expect(check.parameters).toEqual(canary.parameters);
    const context = execution(canaryParameters('checkout', 'blue-green', 'prod'));
    expect(stage('crossfadePolicyCheck', context).payload).toBe(stage('crossfadeCanary', context).payload);
    // The example pipeline uses these stages, the check before the canary.
    const pipeline = JSON.parse(readFileSync('spinnaker/pipeline.example.json', 'utf8')) as { stages: { refId: string; requisiteStageRefIds: string[]; type: string; parameterValues?: unknown }[] };
    expect(pipeline.stages.map((s) => s.type).filter((type) => type.startsWith('crossfade')).sort()).toEqual([...STAGES.keys()].sort());
    const [checkStage, canaryStage] = ['crossfadePolicyCheck', 'crossfadeCanary'].map((type) => pipeline.stages.find((s) => s.type === type)!);
    expect(canaryStage!.requisiteStageRefIds).toEqual([checkStage!.refId]);
    expect(checkStage!.parameterValues).toEqual(canaryStage!.parameterValues);
  });

  it('crossfadePolicyCheck, allowed: the dry run, then its statusUrl read as the monitor → SUCCEEDED, and nothing was written', async () => {
    const service = await serviceWithTwoVersions();
    const run = await playStage(stage('crossfadePolicyCheck', execution(canaryParameters(service, 'canary-5-25-50-100', 'prod'))), TIMING);
    expect(run.status, JSON.stringify(run.webhook)).toBe('SUCCEEDED');
    expect(run.webhook.statusCode).toBe(200);
    expect(run.webhook.monitor).toMatchObject({ body: { allowed: true, status: 'ALLOWED', verdicts: [{ rule: 'prod-analysis', allowed: true }] }, progressMessage: 'allowed by every rule that applies: prod-analysis' });
    expect(run.cancels).toEqual([]);
    expect((await admin<{ items: unknown[] }>('GET', `/v1/deployments?service=${service}`)).body.items).toEqual([]);
  }, 60_000);

  it('crossfadePolicyCheck, denied: TERMINAL, its progress naming the refusing rule, why and when it next allows; nothing was written', async () => {
    const service = await serviceWithTwoVersions('spin-frozen');
    const run = await playStage(stage('crossfadePolicyCheck', execution(canaryParameters(service, 'canary-5-25-50-100', 'prod'))), TIMING);
    expect(run.status).toBe('TERMINAL');
    expect(run.polls).toHaveLength(1);
    expect(run.webhook.monitor!.body).toMatchObject({ allowed: false, status: 'DENIED', verdicts: [{ rule: 'millennium', allowed: false, nextAllowedAt: '2100-01-01T00:00:00.000Z' }, { rule: 'prod-analysis', allowed: true }] });
    expect(run.webhook.monitor!.progressMessage).toMatch(/^refused by policy: millennium: .+ \(allowed again at 2100-01-01T00:00:00\.000Z\)$/);
    expect(run.cancels).toEqual([]);
    expect((await admin<{ items: unknown[] }>('GET', `/v1/deployments?service=${service}`)).body.items).toEqual([]);
  }, 60_000);

  it('a SpEL form the evaluator does not know fails the test instead of passing through', () => {
    expect(() => resolveStage({ ...STAGES.get('crossfadeRollback')!, url: `${SHIPPED_BASE}/\${execution.trigger.user}` }, execution({}), { from: SHIPPED_BASE, to: crossfade })).toThrow(/not known/);
  });

  it('success: the canary waits at its gate, the promote stage passes it, the stage SUCCEEDS with the canary at 100%; the ISO-8859-1 reason is stored right', async () => {
    const service = await serviceWithTwoVersions();
    const context = execution(canaryParameters(service, 'blue-green'));
    let promoted: StageRun | undefined;
    const run = await playStage(stage('crossfadeCanary', context), {
      ...TIMING,
      onPoll: async (document, canary) => {
        if (promoted !== undefined || document['phase'] !== 'PAUSED') return;
        // The Manual Judgment's branch: the promote stage starts now and reads the canary stage's context.
        const judged = { ...context, stageId: randomUUID().slice(0, 8), parameterValues: { canaryStage: 'Canary', full: 'false' }, stages: { Canary: { context: { webhook: canary.webhook } } } };
        promoted = await playStage(stage('crossfadePromote', judged), TIMING);
      },
    });
    expect(run.status, JSON.stringify(run.webhook)).toBe('SUCCEEDED');
    expect(promoted).toMatchObject({ status: 'SUCCEEDED', webhook: { statusCode: 200 } });
    const id = (run.webhook.body as { id: string }).id;
    expect(run.webhook.monitor!.body).toMatchObject({ id, status: 'SUCCEEDED', weights: { aws: { v1: 0, v2: 100 } } });
    expect(run.cancels).toEqual([]);
    expect(await createdEventOf(id)).toMatchObject({ actor: 'spinnaker', reason: REASON });
    await expectNothingRunning(service);
  }, 120_000);

  it('a user cancel while monitoring: exactly one cancel request, by key → CANCELED, the baseline at 100%', async () => {
    const service = await serviceWithTwoVersions();
    let canceled = false;
    const run = await playStage(stage('crossfadeCanary', execution(canaryParameters(service, 'blue-green'))), {
      ...TIMING,
      userCanceled: () => canceled,
      onPoll: async (document) => {
        if (document['phase'] === 'PAUSED') canceled = true;
      },
    });
    expect(run.status).toBe('CANCELED');
    expect(run.cancels).toHaveLength(1);
    expect(run.cancels[0]).toMatchObject({ status: 200, body: { outcome: 'deployment-canceled' } });
    const id = (run.webhook.body as { id: string }).id;
    const final = await finalOf(id);
    expect(final).toMatchObject({ status: 'CANCELED', phase: 'CANCELED', weights: { aws: { v1: 100, v2: 0 } } });
    const events = await admin<{ items: { action: string; reason: string }[] }>('GET', `/v1/deployments/${id}/events`);
    expect(events.body.items.filter((e) => e.action === 'deployment.cancel')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/^Spinnaker stopped checkout\/deploy-prod execution 01J/) })]);
    await expectBaselineServing(service);
    await expectNothingRunning(service);
  }, 120_000);

  it('a cancel while the create is retried on 503: Orca sends no cancel, and nothing was started', async () => {
    const service = await serviceWithTwoVersions();
    createMode = 'answer-503';
    try {
      const run = await playStage(stage('crossfadeCanary', execution(canaryParameters(service, 'blue-green')), proxied), { ...TIMING, userCanceled: (sofar) => sofar.creates >= 3 });
      expect(run.status).toBe('CANCELED');
      expect(run.creates).toBe(3);
      expect(run.cancels).toEqual([]);
    } finally {
      createMode = 'forward';
    }
    await expectNothingRunning(service);
  }, 120_000);

  it('a create that landed but whose answer was lost: the stage fails, the by-key cancel ends the deployment CANCELED, nothing runs', async () => {
    const service = await serviceWithTwoVersions();
    createMode = 'drop-answer';
    let run: StageRun;
    try {
      run = await playStage(stage('crossfadeCanary', execution(canaryParameters(service, 'blue-green')), proxied), TIMING);
    } finally {
      createMode = 'forward';
    }
    expect(run.status).toBe('TERMINAL');
    expect(run.creates).toBe(1);
    expect(run.cancels).toHaveLength(1);
    const answer = run.cancels[0]!.body as { outcome: string; deployment: { id: string } };
    expect(answer.outcome).toBe('deployment-canceled');
    const final = await finalOf(answer.deployment.id);
    // Canceled before (or while) its first step: whatever it shifted is back on the baseline.
    expect(final).toMatchObject({ service, status: 'CANCELED' });
    await expectBaselineServing(service);
    expect(await createdEventOf(answer.deployment.id)).toMatchObject({ reason: REASON });
    await expectNothingRunning(service);
  }, 120_000);

  it('a cancel that comes before its create (held on its way): 200, and the create that lands after is 409 and starts nothing', async () => {
    const service = await serviceWithTwoVersions();
    const resolved = stage('crossfadeCanary', execution(canaryParameters(service, 'blue-green')), proxied);
    createMode = 'hold';
    const playing = playStage(resolved, { ...TIMING, timeoutMs: 20_000 });
    await waitFor(async () => held !== undefined, 10_000, 'the create to reach the proxy');
    createMode = 'forward';
    // The stage is failed meanwhile (say a 504 from the gateway): Orca's onFailureStages sends the cancel.
    const cancel = await fetch(resolved.cancelEndpoint!, { method: 'POST', headers: { authorization: `Bearer ${SPINNAKER_TOKEN}`, 'content-type': 'text/plain;charset=ISO-8859-1' }, body: Buffer.from(resolved.cancelPayload!, 'latin1') });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ outcome: 'canceled-before-create', deployment: null });
    held!();
    held = undefined;
    const run = await playing;
    expect(run.status).toBe('TERMINAL');
    expect(run.webhook).toMatchObject({ statusCode: 409, body: { error: { code: 'IDEMPOTENCY_KEY_CANCELED' } } });
    await expectNothingRunning(service);
  }, 120_000);
});

