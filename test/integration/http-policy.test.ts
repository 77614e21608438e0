/**
 * Policy rules at create and in the dry run (docs/api.md `POST /v1/deployments`, `POST
 * /v1/policy/evaluate`, docs/policy.md), through the Lambda bundles, functions-framework and the
 * local server on DynamoDB Local, with a configuration holding a freeze window that covers now (a
 * once-window from 2000 to 2100 in UTC) and a required-analysis rule in environment prod:
 * a refused create is 403 POLICY_DENIED naming every refusing rule with when it next allows, and
 * writes one `policy.denied` audit event (on the service; on the deployment for a promotion) and
 * nothing else; the dry run answers the same verdicts and writes nothing, and its GET form (the
 * answer's statusUrl, which carries the body) answers them again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanTable, writesOf } from '../support/store-backends.js';
import { apiTableOnDynamoDbLocal, bearer, registerVersions, targetFactories, tokens, uniqueService, type Answer, type ApiEnvironment, type HttpTarget } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';

const POLICY = {
  policy: {
    rules: [
      { name: 'millennium', kind: 'freeze-window', services: ['checkout-frozen-*'], timeZone: 'UTC', once: { start: '2000-01-01T00:00', end: '2100-01-01T00:00' } },
      { name: 'prod-analysis', kind: 'required-analysis', services: ['checkout-gated-*'], environments: ['prod'], minJudgments: 1 },
      { name: 'pairs', kind: 'four-eyes', services: ['checkout-paired-*'] },
    ],
  },
};

/** A plan without an analysis step. */
const UNJUDGED = [{ setWeight: 10 }, { setWeight: 100 }];

let api: ApiEnvironment;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('policy', [], POLICY);
});

afterAll(async () => {
  await api?.stop();
});

interface Verdict {
  rule: string;
  kind: string;
  allowed?: boolean;
  reason: string;
  nextAllowedAt: string | null;
}
type ErrorAnswer = { error: { code: string; message: string; field?: string; verdicts?: Verdict[] } };

describe.each(targetFactories)('policy through %s', (_name, factory) => {
  let target: HttpTarget;
  beforeAll(async () => {
    target = await factory();
  });
  afterAll(async () => {
    await target.stop();
  });

  const post = (path: string, body: unknown, token: string = tokens.checkoutDeployer): Promise<Answer> =>
    target.send({ method: 'POST', path, headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** The answer to `path`, asserting that the only write is one policy.denied audit event on `subject`. */
  async function writingOneDenial(path: string, body: unknown, subject: string, token?: string): Promise<Answer> {
    const { result, added, removed } = await writesOf(api.table, () => post(path, body, token));
    expect(added).toEqual([expect.objectContaining({ pk: `EVT#${subject}`, entity: 'audit', event: expect.objectContaining({ action: 'policy.denied', subject }) })]);
    expect(removed).toBe(0);
    return result;
  }

  /** The answer to `path`, asserting that the table is exactly as before. */
  async function writingNothing(path: string, body: unknown, token?: string): Promise<Answer> {
    const before = await scanTable(api.table);
    const answer = await post(path, body, token);
    expect(await scanTable(api.table)).toEqual(before);
    return answer;
  }

  it('a create inside a freeze is 403 POLICY_DENIED naming the rule and when it allows again, and only its policy.denied event is written', async () => {
    const service = uniqueService('checkout-frozen');
    await registerVersions(target, service);
    const body = deploymentBody({ service, environment: 'prod', spinnaker: undefined });

    const refused = await writingOneDenial('/v1/deployments', body, `service/${service}`);

    expect(refused.status).toBe(403);
    const { error } = refused.body as ErrorAnswer;
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.message).toContain('millennium');
    expect(error.verdicts).toEqual([{ rule: 'millennium', kind: 'freeze-window', reason: expect.stringContaining('2100-01-01'), nextAllowedAt: '2100-01-01T00:00:00.000Z' }]);

    const dryRun = await writingNothing('/v1/policy/evaluate', body);
    expect(dryRun.status).toBe(200);
    expect(dryRun.body).toEqual({
      allowed: false,
      status: 'DENIED',
      progress: error.message,
      verdicts: error.verdicts!.map((v) => ({ ...v, allowed: false })),
      statusUrl: expect.stringMatching(/\/v1\/policy\/evaluate\?request=[\w-]+$/),
    });

    const timeline = await target.send({ method: 'GET', path: `/v1/services/${service}/events`, headers: bearer(tokens.reader) });
    const denied = (timeline.body as { items: { action: string; details: Record<string, unknown> }[] }).items.filter((e) => e.action === 'policy.denied');
    expect(denied).toEqual([
      expect.objectContaining({
        details: expect.objectContaining({
          verdicts: [expect.objectContaining({ rule: 'millennium', allowed: false })],
          inputs: expect.objectContaining({ moment: 'create', principal: 'checkout-pipeline', gathered: expect.objectContaining({ capHolders: {}, succeededIn: [], rollingBack: expect.any(Array) }) }),
        }),
      }),
    ]);
  });

  it('the GET form at statusUrl answers the same body again (a pipeline stage monitors it); a bad request is 400 naming it; both need the deploy scope', async () => {
    const service = uniqueService('checkout-frozen');
    const body = deploymentBody({ service, environment: 'prod', reason: 'Déploiement à 5 %' });
    const posted = await writingNothing('/v1/policy/evaluate', body);
    const statusUrl = (posted.body as { statusUrl: string }).statusUrl;
    const path = statusUrl.slice(statusUrl.indexOf('/v1/'));

    const before = await scanTable(api.table);
    const read = await target.send({ method: 'GET', path, headers: bearer(tokens.checkoutDeployer) });
    expect(await scanTable(api.table)).toEqual(before);
    expect(read.status).toBe(200);
    expect(read.headers['cache-control']).toBe('no-store');
    expect(read.body).toEqual(posted.body);
    expect(read.body).toMatchObject({ allowed: false, status: 'DENIED', progress: expect.stringContaining('millennium'), verdicts: [{ rule: 'millennium' }] });

    const allowedService = uniqueService();
    const allowed = await writingNothing('/v1/policy/evaluate', deploymentBody({ service: allowedService }));
    expect(allowed.body).toMatchObject({ allowed: true, status: 'ALLOWED', progress: 'allowed: no policy rule applies', verdicts: [] });

    for (const bad of ['?request=not%20base64', `?request=${Buffer.from('[1]').toString('base64url')}`, '', `${path.slice(path.indexOf('?'))}&extra=1`]) {
      const answer = await target.send({ method: 'GET', path: `/v1/policy/evaluate${bad}`, headers: bearer(tokens.checkoutDeployer) });
      expect(answer.status, bad).toBe(400);
      expect((answer.body as ErrorAnswer).error).toMatchObject({ code: 'VALIDATION_FAILED', field: bad.includes('extra') ? 'extra' : 'request' });
    }
    const forbidden = await target.send({ method: 'GET', path, headers: bearer(tokens.reader) });
    expect(forbidden.status).toBe(403);
  });

  it('required analysis refuses a prod plan without analysis and allows it in staging; the dry run agrees', async () => {
    const service = uniqueService('checkout-gated');
    await registerVersions(target, service);
    const prod = deploymentBody({ service, environment: 'prod', steps: UNJUDGED, spinnaker: undefined });
    const staging = { ...prod, environment: 'staging' };

    const refused = await writingOneDenial('/v1/deployments', prod, `service/${service}`);
    expect(refused.status).toBe(403);
    expect((refused.body as ErrorAnswer).error.verdicts).toEqual([{ rule: 'prod-analysis', kind: 'required-analysis', reason: expect.stringContaining('analysis'), nextAllowedAt: null }]);
    expect((await writingNothing('/v1/policy/evaluate', prod)).body).toMatchObject({ allowed: false, verdicts: [{ rule: 'prod-analysis', allowed: false }] });
    // Judged: a plan with analysis passes in prod.
    expect((await writingNothing('/v1/policy/evaluate', { ...prod, steps: deploymentBody()['steps'] })).body).toMatchObject({ allowed: true, verdicts: [{ rule: 'prod-analysis', allowed: true }] });
    // No rule applies in staging.
    expect((await writingNothing('/v1/policy/evaluate', staging)).body).toMatchObject({ allowed: true, verdicts: [] });

    const accepted = await post('/v1/deployments', staging);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ service, environment: 'staging', status: 'NOT_STARTED' });
    const read = await target.send({ method: 'GET', path: `/v1/deployments/${(accepted.body as { id: string }).id}`, headers: bearer(tokens.reader) });
    expect(read.body).toMatchObject({ environment: 'staging' });
  });

  it('four eyes: the creator may not promote (403 POLICY_DENIED, only its policy.denied event written); another principal may', async () => {
    const service = uniqueService('checkout-paired');
    await registerVersions(target, service);
    const created = await post('/v1/deployments', deploymentBody({ service, steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 100 }], spinnaker: undefined }));
    expect(created.status).toBe(202);
    const id = (created.body as { id: string }).id;

    const refused = await writingOneDenial(`/v1/deployments/${id}/promote`, { full: true, reason: 'my own change' }, `deployment/${id}`);
    expect(refused.status).toBe(403);
    const error = (refused.body as ErrorAnswer).error;
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.verdicts).toEqual([{ rule: 'pairs', kind: 'four-eyes', reason: expect.stringContaining('checkout-pipeline created this deployment'), nextAllowedAt: null }]);

    const promoted = await post(`/v1/deployments/${id}/promote`, { full: true, reason: 'reviewed' }, tokens.admin);
    expect(promoted.status).toBe(200);
    const timeline = await target.send({ method: 'GET', path: `/v1/deployments/${id}/events`, headers: bearer(tokens.reader) });
    // In order: created, the refused promotion, the promotion.
    expect((timeline.body as { items: { action: string }[] }).items.map((e) => e.action)).toEqual(['deployment.created', 'policy.denied', 'deployment.promote']);
  });

  it('a deployment without an environment reads environment null', async () => {
    const service = uniqueService();
    await registerVersions(target, service);

    const accepted = await post('/v1/deployments', deploymentBody({ service, spinnaker: undefined }));

    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ service, environment: null });
  });

  it('a bad environment is 400 naming the field, and the dry run needs the deploy scope', async () => {
    const service = uniqueService('checkout-gated');
    const bad = await writingNothing('/v1/deployments', deploymentBody({ service, environment: 'Prod_1', spinnaker: undefined }));
    expect(bad.status).toBe(400);
    expect((bad.body as ErrorAnswer).error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'environment' });

    const forbidden = await writingNothing('/v1/policy/evaluate', deploymentBody({ service, environment: 'prod' }), tokens.reader);
    expect(forbidden.status).toBe(403);
    expect((forbidden.body as ErrorAnswer).error.code).toBe('FORBIDDEN');
  });
});
