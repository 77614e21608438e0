/**
 * External rules services and break glass (docs/policy.md, docs/api.md) through the Lambda
 * bundles, functions-framework and the local server on DynamoDB Local, against fake rules services
 * on 127.0.0.1 that verify crossfade's signature with their own copy of the secret
 * (test/support/fake-rules-service.ts). Each endpoint is scoped to its own service prefix:
 *
 *   approve   allows (secret from the environment)           checkout-approved-*
 *   board     refuses with reasons                           checkout-refused-*
 *   slow      answers after 3 s; 300 ms timeout, fail-closed checkout-slow-*
 *   lenient   the same slow service, fail-open               checkout-lenient-*
 *   forged    the service holds another secret: 401          checkout-forged-*
 *   vault     allows; its secret is in Secrets Manager       checkout-vault-*
 *
 * Every verdict is read back from the audit through GET …/events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanTable, writesOf } from '../support/store-backends.js';
import { startFakeRulesService, type FakeRulesService } from '../support/fake-rules-service.js';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/fake-clouds/secrets-manager.js';
import { apiTableOnDynamoDbLocal, bearer, registerVersions, targetFactories, tokens, uniqueService, type Answer, type ApiEnvironment, type HttpTarget } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';

const SECRET = 'rules-secret-0123456789abcdef';
const VAULT_SECRET = 'vault-secret-fedcba9876543210';
const VAULT_ID = 'crossfade/rules-signing';

interface Verdict {
  rule: string;
  kind: string;
  allowed?: boolean;
  reason: string;
  nextAllowedAt: string | null;
  overridden?: boolean;
}
interface AuditItem {
  subject: string;
  action: string;
  actor: string;
  reason: string | null;
  details: { verdicts?: Verdict[]; inputs?: Record<string, unknown>; policy?: { verdicts: Verdict[]; inputs: Record<string, unknown> }; rules?: string[] };
}
type ErrorAnswer = { error: { code: string; message: string; field?: string; rule?: string; verdicts?: Verdict[] } };

let api: ApiEnvironment;
let secretsManager: FakeSecretsManager;
const fakes: Record<'approve' | 'board' | 'slow' | 'forged' | 'vault', FakeRulesService> = {} as never;

beforeAll(async () => {
  fakes.approve = await startFakeRulesService({ secret: SECRET, behaviour: { kind: 'answer', allow: true, reasons: ['change CHG-100 approved'] } });
  fakes.board = await startFakeRulesService({ secret: SECRET, behaviour: { kind: 'answer', allow: false, reasons: ['no approved change for this release', 'error budget spent'] } });
  fakes.slow = await startFakeRulesService({ secret: SECRET, behaviour: { kind: 'slow', delayMs: 3000, then: { allow: true, reasons: ['late'] } } });
  fakes.forged = await startFakeRulesService({ secret: 'not-the-secret-crossfade-has', behaviour: { kind: 'answer', allow: true, reasons: ['never reached'] } });
  fakes.vault = await startFakeRulesService({ secret: VAULT_SECRET, behaviour: { kind: 'answer', allow: true, reasons: ['vault-signed request verified'] } });
  secretsManager = await startFakeSecretsManager();
  secretsManager.put(VAULT_ID, VAULT_SECRET);
  process.env['RULES_SECRET'] = SECRET;
  process.env['AWS_ENDPOINT_URL_SECRETS_MANAGER'] = secretsManager.endpoint;
  const env = { secret: { env: 'RULES_SECRET' } };
  api = await apiTableOnDynamoDbLocal('rules', [], {
    policy: {
      rules: [{ name: 'millennium', kind: 'freeze-window', services: ['checkout-frozen-*'], timeZone: 'UTC', once: { start: '2000-01-01T00:00', end: '2100-01-01T00:00' } }],
      external: [
        { name: 'approve', url: fakes.approve.url, ...env, services: ['checkout-approved-*', 'checkout-frozen-*'] },
        { name: 'board', url: fakes.board.url, ...env, services: ['checkout-refused-*'] },
        { name: 'slow', url: fakes.slow.url, ...env, timeoutMs: 300, services: ['checkout-slow-*'] },
        { name: 'lenient', url: fakes.slow.url, ...env, timeoutMs: 300, failOpen: true, services: ['checkout-lenient-*'] },
        { name: 'forged', url: fakes.forged.url, ...env, services: ['checkout-forged-*'] },
        { name: 'vault', url: fakes.vault.url, secret: { awsSecretsManager: VAULT_ID }, services: ['checkout-vault-*'] },
      ],
    },
  });
});

afterAll(async () => {
  await api?.stop();
  await secretsManager?.stop();
  await Promise.all(Object.values(fakes).map((fake) => fake.stop()));
});

describe.each(targetFactories)('external rules services through %s', (_name, factory) => {
  let target: HttpTarget;
  beforeAll(async () => {
    target = await factory();
  });
  afterAll(async () => {
    await target.stop();
  });

  const post = (path: string, body: unknown, token: string = tokens.checkoutDeployer): Promise<Answer> =>
    target.send({ method: 'POST', path, headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function events(path: string): Promise<AuditItem[]> {
    const answer = await target.send({ method: 'GET', path, headers: bearer(tokens.reader) });
    expect(answer.status).toBe(200);
    return (answer.body as { items: AuditItem[] }).items;
  }

  /** A create refused by policy: 403 POLICY_DENIED, and the only write is one policy.denied event on the service, which it answers. */
  async function refusedCreate(service: string, body: Record<string, unknown> = deploymentBody({ service, environment: 'prod', spinnaker: undefined })): Promise<{ error: ErrorAnswer['error']; event: AuditItem }> {
    await registerVersions(target, service);
    const { result: answer, added, removed } = await writesOf(api.table, () => post('/v1/deployments', body));
    expect(answer.status).toBe(403);
    expect(added).toEqual([expect.objectContaining({ pk: `EVT#service/${service}`, entity: 'audit' })]);
    expect(removed).toBe(0);
    const denied = (await events(`/v1/services/${service}/events`)).filter((e) => e.action === 'policy.denied');
    expect(denied).toHaveLength(1);
    return { error: (answer.body as ErrorAnswer).error, event: denied[0]! };
  }

  async function acceptedCreate(service: string, body: Record<string, unknown> = deploymentBody({ service, environment: 'prod', spinnaker: undefined }), token?: string): Promise<{ id: string; document: Record<string, unknown>; created: AuditItem }> {
    await registerVersions(target, service);
    const answer = await post('/v1/deployments', body, token);
    expect(answer.status, answer.text).toBe(202);
    const id = (answer.body as { id: string }).id;
    const created = (await events(`/v1/deployments/${id}/events`)).find((e) => e.action === 'deployment.created')!;
    return { id, document: answer.body as Record<string, unknown>, created };
  }

  it('an allowing service lets the create through; its verdict and the inputs are in the deployment.created event; the request was signed and verified', async () => {
    const service = uniqueService('checkout-approved');
    const received = fakes.approve.received.length;

    const { id, created } = await acceptedCreate(service);

    expect(created.details.policy).toEqual({
      verdicts: [{ rule: 'approve', kind: 'external', allowed: true, reason: 'change CHG-100 approved', nextAllowedAt: null }],
      inputs: { moment: 'create', principal: 'checkout-pipeline', now: expect.any(String), step: null, gathered: null },
    });
    const calls = fakes.approve.received.slice(received);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.verified).toBe(true);
    expect(calls[0]!.body).toMatchObject({ moment: 'create', deployment: { service, environment: 'prod', canary: 'v42', createdBy: 'checkout-pipeline', principal: 'checkout-pipeline' }, step: null });
    expect(calls[0]!.body['deployment']).not.toHaveProperty('id');
    expect(calls[0]!.headers['x-crossfade-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(id).toMatch(/^dep_/);
  });

  it('a refusing service is 403 POLICY_DENIED showing its reasons, recorded as one policy.denied event with the verdicts and inputs', async () => {
    const service = uniqueService('checkout-refused');

    const { error, event } = await refusedCreate(service);

    expect(error.code).toBe('POLICY_DENIED');
    expect(error.verdicts).toEqual([{ rule: 'board', kind: 'external', reason: 'no approved change for this release; error budget spent', nextAllowedAt: null }]);
    expect(error.message).toContain('no approved change for this release');
    expect(event).toMatchObject({
      subject: `service/${service}`,
      actor: 'checkout-pipeline',
      reason: error.message,
      details: { service, environment: 'prod', canary: 'v42', verdicts: [{ rule: 'board', kind: 'external', allowed: false }], inputs: { moment: 'create', principal: 'checkout-pipeline' } },
    });
  });

  it('a service slower than the timeout refuses when fail-closed, saying so', async () => {
    const { error, event } = await refusedCreate(uniqueService('checkout-slow'));

    expect(error.verdicts).toEqual([{ rule: 'slow', kind: 'external', reason: expect.stringMatching(/no answer within 300 ms.*refused because it is fail-closed/), nextAllowedAt: null }]);
    expect(event.details.verdicts).toEqual([expect.objectContaining({ rule: 'slow', allowed: false })]);
  });

  it('the same slow service allows when fail-open, the verdict saying it allowed because of fail-open', async () => {
    const { created } = await acceptedCreate(uniqueService('checkout-lenient'));

    expect(created.details.policy!.verdicts).toEqual([{ rule: 'lenient', kind: 'external', allowed: true, reason: expect.stringMatching(/no answer within 300 ms.*allowed because it is configured fail-open/), nextAllowedAt: null }]);
  });

  it('a service holding another secret rejects the signature (401), and the create is refused fail-closed', async () => {
    const received = fakes.forged.received.length;

    const { error } = await refusedCreate(uniqueService('checkout-forged'));

    expect(fakes.forged.received.slice(received).map((call) => call.verified)).toEqual([false]);
    expect(error.verdicts).toEqual([{ rule: 'forged', kind: 'external', reason: expect.stringMatching(/answered HTTP 401.*refused because it is fail-closed/), nextAllowedAt: null }]);
  });

  it('a secret from Secrets Manager signs the request, read once however many asks', async () => {
    const reads = secretsManager.reads.length;
    const service = uniqueService('checkout-vault');
    await registerVersions(target, service);
    const body = deploymentBody({ service, environment: 'prod', spinnaker: undefined });

    const dryRun = await post('/v1/policy/evaluate', body);
    const { created } = await acceptedCreate(service, body);

    expect(dryRun.body).toEqual({ allowed: true, status: 'ALLOWED', progress: 'allowed by every rule that applies: vault', statusUrl: expect.any(String), verdicts: [{ rule: 'vault', kind: 'external', allowed: true, reason: 'vault-signed request verified', nextAllowedAt: null }] });
    expect(created.details.policy!.verdicts).toEqual([expect.objectContaining({ rule: 'vault', allowed: true })]);
    expect(secretsManager.reads.slice(reads)).toEqual([VAULT_ID]);
  });

  describe('break glass', () => {
    const override = (rules: string[], reason?: string) => ({ rules, ...(reason === undefined ? {} : { reason }) });

    it('an admin overrides the named refusal; the create goes through, loudly: policy.overridden event, policyOverride in the status document', async () => {
      const service = uniqueService('checkout-refused');
      const body = { ...deploymentBody({ service, environment: 'prod', spinnaker: undefined }), override: override(['board'], 'INC-42: hotfix approved by the CTO') };

      const { id, document, created } = await acceptedCreate(service, body, tokens.admin);

      expect(document['policyOverride']).toEqual({ rules: ['board'], reason: 'INC-42: hotfix approved by the CTO', by: 'admin', at: document['createdAt'] });
      const read = await target.send({ method: 'GET', path: `/v1/deployments/${id}`, headers: bearer(tokens.reader) });
      expect((read.body as Record<string, unknown>)['policyOverride']).toEqual(document['policyOverride']);
      expect(created.details.policy!.verdicts).toEqual([{ rule: 'board', kind: 'external', allowed: false, overridden: true, reason: expect.stringContaining('no approved change'), nextAllowedAt: null }]);
      const overridden = (await events(`/v1/deployments/${id}/events`)).filter((e) => e.action === 'policy.overridden');
      expect(overridden).toEqual([expect.objectContaining({ actor: 'admin', reason: 'INC-42: hotfix approved by the CTO', details: expect.objectContaining({ rules: ['board'] }) })]);
    });

    it('other rules still refuse: overriding the freeze leaves nothing else to refuse, overriding the service alone leaves the freeze', async () => {
      const service = uniqueService('checkout-frozen');
      await registerVersions(target, service);
      const body = (rules: string[]) => ({ ...deploymentBody({ service, environment: 'prod', spinnaker: undefined }), override: override(rules, 'release train') });

      const refused = await post('/v1/deployments', body(['approve']), tokens.admin);

      expect(refused.status).toBe(403);
      expect((refused.body as ErrorAnswer).error.verdicts!.map((v) => v.rule)).toEqual(['millennium']);
      const accepted = await post('/v1/deployments', body(['millennium']), tokens.admin);
      expect(accepted.status).toBe(202);
    });

    it('without admin scope is 403 naming the rule; without a reason 400 naming override.reason; an unknown rule 400 naming override.rules[i]; none writes anything', async () => {
      const service = uniqueService('checkout-refused');
      await registerVersions(target, service);
      const base = deploymentBody({ service, environment: 'prod', spinnaker: undefined });
      const before = await scanTable(api.table);

      const notAdmin = await post('/v1/deployments', { ...base, override: override(['board'], 'I say so') });
      const noReason = await post('/v1/deployments', { ...base, override: override(['board']) }, tokens.admin);
      const unknown = await post('/v1/deployments', { ...base, override: override(['board', 'bored'], 'typo') }, tokens.admin);

      expect(await scanTable(api.table)).toEqual(before);
      expect(notAdmin.status).toBe(403);
      expect((notAdmin.body as ErrorAnswer).error).toMatchObject({ code: 'FORBIDDEN', rule: 'policy-override', message: expect.stringContaining('override policy rules board (needs scope admin)') });
      expect(noReason.status).toBe(400);
      expect((noReason.body as ErrorAnswer).error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'override.reason' });
      expect(unknown.status).toBe(400);
      expect((unknown.body as ErrorAnswer).error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'override.rules[1]', message: expect.stringContaining('"bored" is not a configured policy rule') });
    });
  });
});
