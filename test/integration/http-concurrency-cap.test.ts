/**
 * Concurrency caps are exact under parallel creates (docs/policy.md "How a cap is enforced"),
 * through the Lambda bundles, functions-framework and the local server on DynamoDB Local: 50
 * creates of 50 registered services at once against a cap of 3 make exactly 3 deployments, and the
 * 47 others are 403 POLICY_DENIED naming the cap and the deployments holding its slots, with nothing
 * of theirs written. A replay of an accepted create is not refused by its own slot, and the dry run
 * counts the same holders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanTable } from '../support/store-backends.js';
import { apiTableOnDynamoDbLocal, bearer, registerVersions, targetFactories, tokens, uniqueService, type Answer, type ApiEnvironment, type HttpTarget } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';

const CREATES = 50;
const MAX = 3;
/** One cap per target (the targets share the table), each over its own services. */
const capOf = (target: string) => ({ name: `three-on-${target}`, kind: 'concurrency-cap', services: [`checkout-cap-${target}-*`], max: MAX, per: 'global' });

let api: ApiEnvironment;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('caps', [], { policy: { rules: targetFactories.map(([name]) => capOf(name)) } });
});

afterAll(async () => {
  await api?.stop();
});

type ErrorAnswer = { error: { code: string; message: string; verdicts?: { rule: string; kind: string; reason: string; nextAllowedAt: string | null }[] } };

describe.each(targetFactories)('concurrency cap through %s', (name, factory) => {
  let target: HttpTarget;
  beforeAll(async () => {
    target = await factory();
  });
  afterAll(async () => {
    await target.stop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    target.send({ method: 'POST', path, headers: { ...bearer(tokens.checkoutDeployer), 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it(`${CREATES} parallel creates against a cap of ${MAX} make exactly ${MAX}; the rest are 403 naming the cap and its holders, writing nothing`, async () => {
    const rule = capOf(name).name;
    const services = Array.from({ length: CREATES }, () => uniqueService(`checkout-cap-${name}`));
    for (let i = 0; i < services.length; i += 10) await Promise.all(services.slice(i, i + 10).map((service) => registerVersions(target, service)));
    const bodies = services.map((service) => deploymentBody({ service, spinnaker: undefined }));

    const answers = await Promise.all(bodies.map((body, index) => post('/v1/deployments', body, { 'x-idempotency-key': `cap-${name}-${index}` })));

    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status !== 202);
    expect(accepted).toHaveLength(MAX);
    const holders = accepted.map((a) => (a.body as { id: string }).id).sort();
    for (const answer of refused) {
      expect(answer.status).toBe(403);
      const { error } = answer.body as ErrorAnswer;
      expect(error.code).toBe('POLICY_DENIED');
      expect(error.verdicts).toEqual([{ rule, kind: 'concurrency-cap', reason: expect.stringContaining(`${MAX} already running`), nextAllowedAt: null }]);
      for (const id of holders) expect(error.verdicts![0]!.reason).toContain(id);
    }
    // Nothing of a refused create is in the table: what a creation writes (deployment, mark, key, slot, event) is the accepted ones' only.
    const items = await scanTable(api.table);
    const ofTarget = (item: Record<string, unknown>) => String(item['service'] ?? '').startsWith(`checkout-cap-${name}-`);
    expect(items.filter((item) => String(item['pk']).startsWith('DEP#') && ofTarget(item)).map((item) => item['id']).sort()).toEqual(holders);
    expect(items.filter((item) => String(item['pk']).startsWith('IDEM#') && String(item['pk']).includes(`/cap-${name}-`))).toHaveLength(MAX);
    expect(items.find((item) => item['pk'] === 'CAPS' && item['sk'] === `CAP#${rule}#global`)?.['holders']).toEqual(Object.fromEntries(holders.map((id) => [id, expect.any(String)])));
    const marked = new Set(items.filter((item) => item['pk'] === 'RUNS').map((item) => String(item['sk'])));
    const created = new Set(items.filter((item) => String(item['pk']).startsWith('EVT#deployment/')).map((item) => String(item['pk']).slice('EVT#deployment/'.length)));
    for (const id of holders) expect(marked.has(id) && created.has(id)).toBe(true);
    expect(marked.size).toBe(created.size);

    // A replay of an accepted create is answered as the first time, not refused by its own slot.
    const first = answers.findIndex((a) => a.status === 202);
    const replay = await post('/v1/deployments', bodies[first], { 'x-idempotency-key': `cap-${name}-${first}` });
    expect(replay.status).toBe(202);
    expect((replay.body as { id: string }).id).toBe((accepted[0]!.body as { id: string }).id);

    // The dry run counts the same holders: a fourth would be refused, naming them.
    const dryRun = await post('/v1/policy/evaluate', bodies[answers.findIndex((a) => a.status !== 202)]);
    expect(dryRun.status).toBe(200);
    expect(dryRun.body).toMatchObject({ allowed: false, verdicts: [{ rule, kind: 'concurrency-cap', allowed: false }] });
    for (const id of holders) expect(JSON.stringify(dryRun.body)).toContain(id);
  }, 120_000);
});
