/**
 * A concurrency cap on `npm start` (a real process on its embedded store, docs/policy.md "How a cap
 * is enforced"): 50 creates of 50 registered services at once against a cap of 3 make exactly 3
 * deployments, which run (to a manual gate: RUNNING), and 47 answers of 403 POLICY_DENIED naming the
 * cap; a run that ends frees its slot, so a fourth create then succeeds, and the cap stays exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killLocalProcesses, startStack, stopLocalProcess, waitFor, type LocalProcess } from '../support/local-process.js';

const ADMIN = 'cf_cap_local_admin_token_0123456789';
const CREATES = 50;
const CAP = { name: 'three-at-once', kind: 'concurrency-cap', max: 3, per: 'global' };
/** 5% on aws, then a manual gate: a run gets there at once and waits, RUNNING, holding its slot. */
const GATED = [{ setWeight: 5 }, { pause: {} }, { setWeight: 100 }];

let server: LocalProcess;
let base: string;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function register(service: string): Promise<void> {
  for (const [index, version] of ['v1', 'v2'].entries()) {
    const answer = await call('PUT', `/v1/services/${service}/versions/${version}`, { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `10.3.0.${index + 1}`, port: 8080 }] }] });
    expect([200, 201]).toContain(answer.status);
  }
}

const create = (service: string) => call('POST', '/v1/deployments', { service, baseline: { version: 'v1' }, canary: { version: 'v2' }, steps: GATED });
const statusOf = async (id: string) => (await call('GET', `/v1/deployments/${id}`)).body;

beforeAll(async () => {
  const stack = await startStack({
    label: 'cap',
    adminToken: ADMIN,
    config: {
      clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
      proxyGroups: [{ name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] }],
      policy: { rules: [CAP] },
    },
  });
  ({ process: server, url: base } = stack);
}, 90_000);

afterAll(async () => {
  if (server) await stopLocalProcess(server);
  killLocalProcesses();
});

describe('a concurrency cap on npm start', () => {
  it(`${CREATES} parallel creates against a cap of 3: exactly 3 created and RUNNING, 47 refused naming the cap; a run that ends frees its slot`, async () => {
    const services = Array.from({ length: CREATES }, (_unused, index) => `svc-${String(index).padStart(2, '0')}`);
    for (let i = 0; i < services.length; i += 10) await Promise.all(services.slice(i, i + 10).map(register));

    const answers = await Promise.all(services.map(create));

    const accepted = answers.filter((a) => a.status === 202).map((a) => a.body['id'] as string);
    expect(accepted).toHaveLength(3);
    const refused = answers.filter((a) => a.status !== 202);
    expect(refused).toHaveLength(CREATES - 3);
    for (const answer of refused) {
      expect(answer.status).toBe(403);
      const error = answer.body['error'] as { code: string; verdicts: { rule: string; kind: string; reason: string }[] };
      expect(error.code).toBe('POLICY_DENIED');
      expect(error.verdicts).toEqual([{ rule: 'three-at-once', kind: 'concurrency-cap', reason: expect.stringContaining('3 already running'), nextAllowedAt: null }]);
    }
    for (const id of accepted) await waitFor(async () => (await statusOf(id))['phase'] === 'PAUSED', 30_000, `${id} at its gate`);
    const running = await call('GET', '/v1/deployments?status=RUNNING');
    expect((running.body['items'] as { id: string }[]).map((d) => d.id).sort()).toEqual([...accepted].sort());
    // Nothing of the refused: the listing of every deployment holds the three only.
    expect((await call('GET', '/v1/deployments?limit=100')).body['items']).toHaveLength(3);

    // One run passes its gate and ends: its slot is free, and exactly one more create gets it.
    const [done] = accepted;
    expect((await call('POST', `/v1/deployments/${done}/promote`, {})).status).toBe(200);
    await waitFor(async () => (await statusOf(done!))['status'] === 'SUCCEEDED', 30_000, `${done} to succeed`);
    const waiting = services.filter((_service, index) => answers[index]!.status !== 202);
    // SUCCEEDED is written by the promotion; the slot is freed by the release task that follows it.
    let fourth = await create(waiting[0]!);
    await waitFor(async () => (fourth = fourth.status === 202 ? fourth : await create(waiting[0]!)).status === 202, 15_000, `a create taking the freed slot (last answer ${fourth.status} ${JSON.stringify(fourth.body)})`);
    expect(fourth.status).toBe(202);
    const fifth = await create(waiting[1]!);
    expect(fifth.status).toBe(403);
    expect(JSON.stringify(fifth.body)).toContain(fourth.body['id'] as string);
  }, 180_000);
});
