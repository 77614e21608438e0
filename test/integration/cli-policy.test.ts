/**
 * `crossfade policy check` and `deploy --environment` against a real `npm start` whose
 * crossfade.yaml holds a freeze covering now (a once-window from 2000 to 2100, UTC) for services
 * `frozen-*`, and a required-analysis rule for environment prod (docs/policy.md):
 * - allowed: exit 0, every applying verdict shown; `-o json` / `-o yaml` is the dry run's document;
 * - denied: exit 5, each refusing rule named (table and stderr), its reason and next-allowed time;
 * - `deploy --environment` stores the environment; a deploy the rules refuse exits 5 naming the
 *   rule, and nothing is created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { crossfade, startCliStack, TEMPLATE, type CliStack } from '../support/cli.js';

const POLICY = {
  policy: {
    rules: [
      { name: 'millennium', kind: 'freeze-window', services: ['frozen-*'], timeZone: 'UTC', once: { start: '2000-01-01T00:00', end: '2100-01-01T00:00' } },
      { name: 'prod-analysis', kind: 'required-analysis', environments: ['prod'], minJudgments: 1 },
    ],
  },
};

let stack: CliStack;

beforeAll(async () => {
  stack = await startCliStack(POLICY);
  for (const [index, version] of ['v1', 'v2'].entries()) {
    const answer = await stack.api('PUT', `/v1/services/frozen-svc/versions/${version}`, {
      targets: [{ cloud: 'gcp', cluster: 'gke-usc1', namespace: 'frozen', kubernetesService: 'frozen-svc', port: 8080, endpoints: [{ address: `10.8.0.${index + 1}`, port: 8080 }] }],
    });
    expect(answer.status).toBe(201);
  }
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

const run = (...args: string[]) => crossfade(args, stack.env);
const JUDGED = ['--step', '10', '--step', `analysis:${TEMPLATE}:10s:1`, '--step', '100'];
const JUDGED_STEPS = [{ setWeight: 10 }, { analysis: { template: TEMPLATE, interval: '10s', count: 1 } }, { setWeight: 100 }];

/** What the API answers the dry run of `body` directly. */
async function dryRun(body: unknown): Promise<unknown> {
  const answer = await stack.api('POST', '/v1/policy/evaluate', body);
  expect(answer.status).toBe(200);
  return answer.body;
}

describe('crossfade policy check against npm start', () => {
  it('allowed: exit 0; json and yaml are the dry run\'s document; the table shows each verdict', async () => {
    const body = { service: 'checkout', environment: 'prod', canary: { version: 'v2' }, steps: JUDGED_STEPS };
    const expected = await dryRun(body);
    expect(expected).toMatchObject({ allowed: true, verdicts: [{ rule: 'prod-analysis', kind: 'required-analysis', allowed: true }] });

    const json = await run('policy', 'check', 'checkout', 'v2', '--environment', 'prod', ...JUDGED, '-o', 'json');
    expect([json.code, json.stderr]).toEqual([0, '']);
    expect(JSON.parse(json.stdout)).toEqual(expected);
    const yaml = await run('policy', 'check', 'checkout', 'v2', '--environment', 'prod', ...JUDGED, '-o', 'yaml');
    expect(yaml.code).toBe(0);
    expect(parseYaml(yaml.stdout)).toEqual(expected);

    const table = await run('policy', 'check', 'checkout', 'v2', '--environment', 'prod', ...JUDGED);
    expect([table.code, table.stderr]).toEqual([0, '']);
    expect(table.stdout).toMatch(/prod-analysis\s*│\s*required-analysis\s*│\s*yes/);
    expect(table.stdout.trimEnd().endsWith('allowed')).toBe(true);

    // No rule applies in staging: allowed, and the table says so.
    const staging = await run('policy', 'check', 'checkout', 'v2', '--environment', 'staging', '--step', '100');
    expect([staging.code, staging.stdout]).toEqual([0, 'allowed: no rule applies\n']);
  }, 120_000);

  it('denied: exit 5 naming every refusing rule, with its reason and when it next allows; json is the dry run\'s document', async () => {
    const body = { service: 'frozen-svc', environment: 'prod', canary: { version: 'v2' }, steps: [{ setWeight: 10 }, { setWeight: 100 }] };
    const expected = await dryRun(body);
    expect(expected).toMatchObject({ allowed: false, verdicts: [{ rule: 'millennium', allowed: false, nextAllowedAt: '2100-01-01T00:00:00.000Z' }, { rule: 'prod-analysis', allowed: false, nextAllowedAt: null }] });

    const json = await run('policy', 'check', 'frozen-svc', 'v2', '--environment', 'prod', '--step', '10', '--step', '100', '-o', 'json');
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toEqual(expected);
    expect(json.stderr).toBe('crossfade: refused by policy: millennium, prod-analysis\n');

    const table = await run('policy', 'check', 'frozen-svc', 'v2', '--environment', 'prod', '--step', '10', '--step', '100');
    expect(table.code).toBe(5);
    expect(table.stdout).toMatch(/millennium\s*│\s*freeze-window\s*│\s*no\s*│.*2100-01-01.*│\s*2100-01-01T00:00:00\.000Z/);
    expect(table.stdout).toMatch(/prod-analysis\s*│\s*required-analysis\s*│\s*no\s*│.*analysis.*│\s*-\s*│/);
    expect(table.stdout.trimEnd().endsWith('denied')).toBe(true);

    // Judged: the analysis rule allows; the freeze still refuses, alone.
    const judged = await run('policy', 'check', 'frozen-svc', 'v2', '--environment', 'prod', ...JUDGED, '-o', 'json');
    expect(judged.code).toBe(5);
    expect(judged.stderr).toBe('crossfade: refused by policy: millennium\n');
    // The check wrote nothing.
    expect((await stack.api<{ items: unknown[] }>('GET', '/v1/deployments?service=frozen-svc')).body.items).toEqual([]);
  }, 120_000);

  it('a bad flag is exit 2 before anything is sent; a bad environment is the API\'s 400 naming the field', async () => {
    const noPlan = await run('policy', 'check', 'checkout', 'v2');
    expect([noPlan.code, noPlan.stderr]).toEqual([2, 'crossfade: policy check needs a plan: --step (repeated) or --strategy, or "steps"/"strategy" in --file\n']);
    const bad = await run('policy', 'check', 'checkout', 'v2', '--environment', 'Prod_1', '--step', '100');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\(VALIDATION_FAILED, field environment\)\n$/);
  }, 60_000);
});

describe('crossfade deploy --environment', () => {
  it('refused by the rules: exit 5 naming the rule, nothing created; allowed: the environment is stored', async () => {
    const refused = await run('deploy', 'frozen-svc', 'v2', '--environment', 'staging', '--step', '10', '--step', '100');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^crossfade: refused by policy: millennium: .*\(POLICY_DENIED\)\n$/);
    expect(refused.stdout).toBe('');
    expect((await stack.api<{ items: unknown[] }>('GET', '/v1/deployments?service=frozen-svc')).body.items).toEqual([]);

    await stack.api('PUT', '/v1/services/thawed/versions/v1', { targets: [{ cloud: 'gcp', cluster: 'gke-usc1', namespace: 'thawed', kubernetesService: 'thawed', port: 8080, endpoints: [{ address: '10.9.0.1', port: 8080 }] }] });
    await stack.api('PUT', '/v1/services/thawed/versions/v2', { targets: [{ cloud: 'gcp', cluster: 'gke-usc1', namespace: 'thawed', kubernetesService: 'thawed', port: 8080, endpoints: [{ address: '10.9.0.2', port: 8080 }] }] });
    const created = await run('deploy', 'thawed', 'v2', '--environment', 'staging', '--step', '10', '--step', 'pause', '--step', '100', '-o', 'json');
    expect([created.code, created.stderr]).toEqual([0, '']);
    const doc = JSON.parse(created.stdout) as { id: string; environment: string };
    expect(doc.environment).toBe('staging');
    expect((await stack.api('GET', `/v1/deployments/${doc.id}`)).body).toMatchObject({ environment: 'staging' });
    await stack.api('POST', `/v1/deployments/${doc.id}/cancel`, { reason: 'test over' });
  }, 120_000);
});
