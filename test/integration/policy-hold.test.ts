/**
 * Business rules during a run, on `npm start` as an operator runs it: the clock set through the
 * configuration (`clock.startsAt`) a little before a one-off freeze window, one real HAProxy as
 * the proxy group. A canary waits at a manual gate; once the freeze has begun it is promoted past
 * the gate, and its next traffic step is HELD (phase HELD, progress and `heldBy` say why and until
 * when) while HAProxy keeps serving the step before, then it resumes on its own when the freeze
 * ends and SUCCEEDS. Meanwhile a create inside the freeze is refused naming the rule, writing nothing.
 *
 * Times are the stack's clock: the test learns its offset from the first create's `createdAt`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyBackendName } from '../../shared/adapters/haproxy/haproxy-router.js';
import { startHaproxy, versionShares, type HaproxyInstance } from '../support/haproxy.js';
import { sleep, startStack, stopLocalProcess, waitFor, type LocalProcess } from '../support/local-process.js';
import { LOOPBACK_CIDRS } from '../support/mesh-builders.js';
import { startFakeRulesService, type FakeRulesService, type RulesBehaviour } from '../support/fake-rules-service.js';

const ZONE = 'Europe/Berlin';
/** 07:59:30 in Berlin: the stack starts 45 s before the freeze. */
const STARTS_AT = '2026-12-24T06:59:30Z';
const FREEZE = { start: '2026-12-24T08:00:15', end: '2026-12-24T08:00:35' };
const FREEZE_START = Date.parse('2026-12-24T07:00:15Z');
const FREEZE_END = '2026-12-24T07:00:35.000Z';
const RULE = 'xmas-freeze';

interface Status {
  id: string;
  phase: string;
  status: string;
  progress: string;
  createdAt: string;
  step: { index: number };
  heldBy: { rules: string[]; reason: string; since: string; until: string | null } | null;
}

const RULES_SECRET = randomUUID();
/** What the rules service answers now: the test changes it while a run is held. */
const rulesOptions: { secret: string; behaviour: RulesBehaviour } = { secret: RULES_SECRET, behaviour: { kind: 'answer', allow: true, reasons: [] } };
let rulesService: FakeRulesService;
let haproxy: HaproxyInstance;
let server: LocalProcess;
let url: string;
let token: string;

async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

const statusOf = async (id: string): Promise<Status> => (await call<Status>('GET', `/v1/deployments/${id}`)).body;
const sharesOf = async (service: string): Promise<Record<string, number>> => (await versionShares(haproxy.adminPort, haproxyBackendName(service))).shares;

beforeAll(async () => {
  haproxy = await startHaproxy('policy-edge', ['checkout', 'search', 'orders'].map((service) => ({ name: haproxyBackendName(service) })));
  rulesService = await startFakeRulesService(rulesOptions);
  token = `cf_policy_admin_${randomUUID()}`;
  const stack = await startStack({
    label: 'policy-hold',
    adminToken: token,
    config: {
      clock: { startsAt: STARTS_AT },
      clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
      proxyGroups: [{ name: 'edge-use1', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [haproxy.proxy] }],
      mesh: { allowedEndpointCidrs: LOOPBACK_CIDRS },
      policy: {
        rules: [{ name: RULE, kind: 'freeze-window', timeZone: ZONE, once: FREEZE }],
        external: [{ name: 'change-board', url: rulesService.url, secret: { env: 'POLICY_HOLD_RULES_SECRET' }, services: ['orders'] }],
        recheckSeconds: 2,
      },
    },
    env: { CROSSFADE_LOCAL_RETRY_MS: '300', POLICY_HOLD_RULES_SECRET: RULES_SECRET },
    listenTimeoutMs: 40_000,
  });
  ({ process: server, url } = stack);
  for (const service of ['checkout', 'search', 'orders']) {
    for (const [index, version] of ['v1', 'v2'].entries()) {
      const targets = [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: `${service}-${version}`, port: 8080, endpoints: [{ address: '127.0.0.1', port: 21_001 + index }] }];
      const registered = await call('PUT', `/v1/services/${service}/versions/${version}`, { targets });
      expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    }
  }
}, 90_000);

afterAll(async () => {
  if (server) await stopLocalProcess(server);
  await haproxy?.stop();
  await rulesService?.stop();
}, 30_000);

describe('a freeze window that begins mid-canary (npm start, clock set by configuration, real HAProxy)', () => {
  it('holds the next traffic step at the current split, refuses creates inside it, then resumes on its own and succeeds', async () => {
    const created = await call<Status>('POST', '/v1/deployments', {
      service: 'checkout',
      canary: { version: 'v2' },
      steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: '1s' } }, { setWeight: 100 }],
      reason: 'policy hold test',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = created.body.id;
    // The stack's clock, from its own timestamps: created just now.
    const offsetMs = Date.parse(created.body.createdAt) - Date.now();
    expect(Date.now() + offsetMs, 'the stack took too long to start: the create landed inside the freeze').toBeLessThan(FREEZE_START);

    await waitFor(async () => (await statusOf(id)).phase === 'PAUSED', 30_000, 'the canary waits at its manual gate');
    expect(await sharesOf('checkout')).toEqual({ v1: 90, v2: 10 });

    // Into the freeze, by the stack's clock.
    await sleep(Math.max(0, FREEZE_START + 1_000 - (Date.now() + offsetMs)));

    const refused = await call<{ error: { code: string; message: string; verdicts: { rule: string; nextAllowedAt: string | null }[] } }>('POST', '/v1/deployments', {
      service: 'search',
      canary: { version: 'v2' },
      steps: [{ setWeight: 50 }],
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('POLICY_DENIED');
    expect(refused.body.error.verdicts).toEqual([expect.objectContaining({ rule: RULE, nextAllowedAt: FREEZE_END })]);
    const searchDeployments = await call<{ items: unknown[] }>('GET', '/v1/deployments?service=search');
    expect(searchDeployments.body.items).toEqual([]);

    const promoted = await call('POST', `/v1/deployments/${id}/promote`, {});
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    await waitFor(async () => (await statusOf(id)).phase === 'HELD', 15_000, 'the next traffic step is held');
    const held = await statusOf(id);
    expect(held.status).toBe('RUNNING');
    expect(held.step.index).toBe(2);
    expect(held.heldBy).toEqual(expect.objectContaining({ rules: [RULE], until: FREEZE_END }));
    expect(held.progress).toMatch(new RegExp(`^held by policy before step 3/5 \\(shift to 50%\\): ${RULE}: .*allowed again at ${FREEZE_END}`));

    // Until the freeze ends, HAProxy keeps serving the step before.
    const duringFreeze: Record<string, number>[] = [];
    while (Date.now() + offsetMs < Date.parse(FREEZE_END) - 2_000) {
      duringFreeze.push(await sharesOf('checkout'));
      await sleep(1_000);
    }
    expect(duringFreeze.length).toBeGreaterThan(3);
    for (const shares of duringFreeze) expect(shares).toEqual({ v1: 90, v2: 10 });

    await waitFor(async () => (await statusOf(id)).status === 'SUCCEEDED', 60_000, 'the canary resumes and succeeds');
    expect(await sharesOf('checkout')).toEqual({ v1: 0, v2: 100 });

    const events = await call<{ items: { action: string; at: string; details: Record<string, unknown> }[] }>('GET', `/v1/deployments/${id}/events?limit=100`);
    const actions = events.body.items.map((e) => e.action);
    expect(actions).toContain('deployment.held');
    const heldEvent = events.body.items.find((e) => e.action === 'deployment.held')!;
    expect(heldEvent.details['held']).toEqual(expect.objectContaining({ rules: [RULE], until: FREEZE_END }));
    // The held step moved only once the freeze was over, and the run never rolled back.
    const shiftToFifty = events.body.items.find((e) => e.action === 'deployment.shift' && e.details['stepIndex'] === 2)!;
    expect(Date.parse(shiftToFifty.at)).toBeGreaterThanOrEqual(Date.parse(FREEZE_END));
    expect(actions).not.toContain('deployment.rollback');
  }, 150_000);
});

describe('a rules service that refuses a traffic step (npm start, real HAProxy)', () => {
  it('holds the run before the step with no end it can name, asks again every recheckSeconds, and resumes once the service allows', async () => {
    const created = await call<Status>('POST', '/v1/deployments', { service: 'orders', canary: { version: 'v2' }, steps: [{ setWeight: 20 }, { setWeight: 100 }], reason: 'rules service hold test' });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = created.body.id;
    // Allowed at create; from now on the service refuses.
    rulesOptions.behaviour = { kind: 'answer', allow: false, reasons: ['change board: release train closed'] };

    await waitFor(async () => (await statusOf(id)).phase === 'HELD', 30_000, 'the first traffic step is held by the rules service');
    const held = await statusOf(id);
    expect(held.heldBy).toEqual(expect.objectContaining({ rules: ['change-board'], until: null, reason: expect.stringContaining('release train closed') }));
    expect(held.progress).toMatch(/^held by policy before step 1\/2 \(shift to 20%\): change-board: .*; asked again shortly$/);
    const askedAtHold = rulesService.received.filter((call) => call.body['moment'] === 'step').length;
    // It is asked again (every 2 s here) while HAProxy keeps the baseline at 100%.
    await waitFor(async () => rulesService.received.filter((call) => call.body['moment'] === 'step').length >= askedAtHold + 2, 20_000, 'the held run asks the rules service again');
    expect(await sharesOf('orders')).toEqual({ v1: 100, v2: 0 });
    const stepCalls = rulesService.received.filter((call) => call.body['moment'] === 'step');
    expect(stepCalls.every((call) => call.verified)).toBe(true);
    expect(stepCalls[0]!.body).toMatchObject({ deployment: { id, service: 'orders', canary: 'v2' }, step: { index: 0, kind: 'setWeight', canaryPercent: 20 } });

    rulesOptions.behaviour = { kind: 'answer', allow: true, reasons: [] };
    await waitFor(async () => (await statusOf(id)).status === 'SUCCEEDED', 60_000, 'the run resumes and succeeds once the service allows');
    expect(await sharesOf('orders')).toEqual({ v1: 0, v2: 100 });
    const events = await call<{ items: { action: string; details: Record<string, unknown> }[] }>('GET', `/v1/deployments/${id}/events?limit=100`);
    const heldEvents = events.body.items.filter((e) => e.action === 'deployment.held');
    expect(heldEvents.length).toBeGreaterThanOrEqual(2);
    // Every verdict of the run's checks is in the audit, the allowing ones with their step.
    const shifted = events.body.items.find((e) => e.action === 'deployment.shift' && e.details['stepIndex'] === 0)!;
    expect(shifted.details['policy']).toEqual(expect.objectContaining({ verdicts: expect.arrayContaining([expect.objectContaining({ rule: 'change-board', kind: 'external', allowed: true })]) }));
  }, 120_000);
});
