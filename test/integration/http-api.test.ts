/**
 * The HTTP API's first slice (docs/api.md), specified once and run through every way it is served:
 * the Lambda bundles, the GCP bundle on functions-framework, and the local server. Every target
 * must give the same status, body and content type. Runs on DynamoDB Local; runs are started on
 * the fake Step Functions. One deployment per service at a time: each test that creates one
 * deploys a service of its own, with its versions registered first.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { scanTable } from '../support/store-backends.js';
import {
  apiTableOnDynamoDbLocal,
  bearer,
  PUBLIC_BASE_URL,
  registerVersions,
  targetFactories,
  tokens,
  uniqueService,
  type Answer,
  type ApiEnvironment,
  type HttpTarget,
  type Sent,
} from '../support/http-targets.js';
import { FAKE_STATE_MACHINE_ARN } from '../support/fake-clouds/step-functions.js';
import { deploymentBody } from '../support/requests.js';

const JSON_TYPE = 'application/json; charset=utf-8';

let api: ApiEnvironment;
let table: TableHandle;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('http');
  table = api.table;
});

afterAll(async () => {
  await api.stop();
});

function post(body: unknown, headers: Record<string, string> = bearer(tokens.admin)): Sent {
  return { method: 'POST', path: '/v1/deployments', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

/** Sends the request and checks that the table is exactly as it was before. */
async function sendWritingNothing(target: HttpTarget, request: Sent): Promise<Answer> {
  const before = await scanTable(table);
  const answer = await target.send(request);
  expect(await scanTable(table)).toEqual(before);
  return answer;
}

describe.each(targetFactories)('HTTP API through %s', (name, factory) => {
  let target: HttpTarget;
  /** This target's service with v41 and v42 registered, which no test deploys (the not-registered case). */
  const registered = `checkout-${name.replace(/[^a-z]/g, '')}`;
  /** A fresh service with v41 and v42 registered: nothing holds its lock. */
  const freshService = async (versions?: string[]): Promise<string> => {
    const service = uniqueService();
    await registerVersions(target, service, versions);
    return service;
  };
  beforeAll(async () => {
    target = await factory();
    await registerVersions(target, registered);
  });
  afterAll(async () => {
    await target.stop();
  });

  it('answers /healthz without a token', async () => {
    const answer = await target.send({ method: 'GET', path: '/healthz' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(JSON_TYPE);
    expect(answer.body).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('creates a deployment: 202, absolute Location, the status document, readable at once; its run is started', async () => {
    const service = await freshService();
    const created = await target.send(post(deploymentBody({ service }), { ...bearer(tokens.checkoutDeployer), 'x-idempotency-key': `exec-${randomUUID()}-3` }));
    expect(created.status).toBe(202);
    expect(created.headers['content-type']).toBe(JSON_TYPE);
    const doc = created.body as Record<string, unknown>;
    expect(doc).toMatchObject({
      service,
      status: 'NOT_STARTED',
      phase: 'PENDING',
      progress: 'accepted, waiting to start: 6 steps planned',
      step: { index: 0, count: 6 },
      baseline: 'v41',
      canary: 'v42',
      weights: {},
      result: null,
    });
    expect(doc['id']).toMatch(/^dep_[0-9a-z]{26}$/);
    expect(created.headers['location']).toBe(`${PUBLIC_BASE_URL}/v1/deployments/${doc['id']}`);
    expect(doc['statusUrl']).toBe(created.headers['location']);
    expect(doc['cancelUrl']).toBe(`${created.headers['location']}/cancel`);

    const read = await target.send({ method: 'GET', path: `/v1/deployments/${doc['id']}`, headers: bearer(tokens.checkoutDeployer) });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(doc);

    const listed = await target.send({ method: 'GET', path: `/v1/deployments?service=${service}`, headers: bearer(tokens.reader) });
    expect(listed.status).toBe(200);
    expect((listed.body as { items: { id: string }[] }).items.map((d) => d.id)).toContain(doc['id']);

    // One execution of the canary state machine, named after the deployment.
    expect(api.stepFunctions.callsOf('StartExecution').filter((call) => call['name'] === doc['id'])).toEqual([
      { stateMachineArn: FAKE_STATE_MACHINE_ARN, name: doc['id'], input: JSON.stringify({ deploymentId: doc['id'] }) },
    ]);
  });

  it('replays the first answer for a repeated idempotency key, and refuses it with another body (422)', async () => {
    const service = await freshService(['v41', 'v42', 'v43']);
    const key = `exec-${randomUUID()}-3`;
    const first = await target.send(post(deploymentBody({ service }), { ...bearer(tokens.admin), 'x-idempotency-key': key }));
    expect(first.status).toBe(202);
    // Key order and whitespace do not make another body.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(deploymentBody({ service })).reverse()), null, 2);
    const again = await sendWritingNothing(target, post(reordered, { ...bearer(tokens.admin), 'x-idempotency-key': key }));
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['location']).toBe(first.headers['location']);

    // Another registered canary: a valid body, but not the one the key was first used with.
    const other = await sendWritingNothing(target, post(deploymentBody({ service, canary: { version: 'v43' } }), { ...bearer(tokens.admin), 'x-idempotency-key': key }));
    expect(other.status).toBe(422);
    expect(other.body).toEqual({ error: { code: 'IDEMPOTENCY_KEY_REUSED', message: `idempotency key "${key}" was already used with a different request body` } });
  });

  it("derives the idempotency key from spinnaker.executionId and stageId when there is no header", async () => {
    const body = deploymentBody({ service: await freshService(), spinnaker: { executionId: randomUUID(), stageId: '7' } });
    const first = await target.send(post(body));
    const again = await sendWritingNothing(target, post(body));
    expect(first.status).toBe(202);
    expect(again.body).toEqual(first.body);
  });

  it('parses a JSON body sent as text/plain, as Spinnaker preconfigured stages send it', async () => {
    const body = JSON.stringify(deploymentBody({ service: await freshService(), spinnaker: undefined }));
    const answer = await target.send({ method: 'POST', path: '/v1/deployments', headers: { ...bearer(tokens.admin), 'content-type': 'text/plain;charset=ISO-8859-1' }, body });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'NOT_STARTED' });
  });

  it.each(['text/plain;charset=ISO-8859-1', 'application/json; charset=iso-8859-1'])('decodes a body by its charset: "Déploiement" sent as %s is stored as such', async (contentType) => {
    const body = Buffer.from(JSON.stringify(deploymentBody({ service: await freshService(), spinnaker: undefined, reason: 'Déploiement à 5 %' })), 'latin1');
    const answer = await target.send({ method: 'POST', path: '/v1/deployments', headers: { ...bearer(tokens.admin), 'content-type': contentType }, body });
    expect(answer.status, answer.text).toBe(202);
    const id = (answer.body as { id: string }).id;
    const events = await target.send({ method: 'GET', path: `/v1/deployments/${id}/events`, headers: bearer(tokens.admin) });
    expect((events.body as { items: { action: string; reason: string }[] }).items[0]).toMatchObject({ action: 'deployment.created', reason: 'Déploiement à 5 %' });
  });

  describe('refuses bad input with the documented error, writing nothing', () => {
    const cases: { name: string; request: () => Sent; status: number; error: Record<string, unknown> }[] = [
      {
        name: 'malformed JSON (application/json)',
        request: () => post('{"service": "checkout",'),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/^body is not valid JSON: /), rule: 'json' },
      },
      {
        name: 'malformed JSON (text/plain)',
        request: () => ({ ...post('{not json'), headers: { ...bearer(tokens.admin), 'content-type': 'text/plain' } }),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/^body is not valid JSON: /), rule: 'json' },
      },
      {
        name: 'a JSON body that is not an object',
        request: () => post('[1, 2, 3]'),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'body must be a JSON object', rule: 'json-object' },
      },
      {
        name: 'a charset nobody decodes',
        request: () => ({ ...post(deploymentBody()), headers: { ...bearer(tokens.admin), 'content-type': 'application/json; charset=x-klingon' } }),
        status: 415,
        error: { code: 'UNSUPPORTED_CHARSET', message: 'charset "x-klingon" in Content-Type is not supported: send the body as UTF-8 (the default) or ISO-8859-1', field: 'Content-Type', rule: 'charset' },
      },
      {
        name: 'ISO-8859-1 bytes declared as UTF-8',
        request: () => ({ ...post(''), body: Buffer.from(JSON.stringify(deploymentBody({ reason: 'Déploiement' })), 'latin1') }),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'body is not valid UTF-8', field: 'body', rule: 'charset' },
      },
      {
        name: 'a body over 256 KB',
        request: () => post(deploymentBody({ reason: 'x'.repeat(300 * 1024) })),
        status: 400,
        error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than 262144 bytes', rule: 'max-body-bytes' },
      },
      {
        name: 'a missing field',
        request: () => post(deploymentBody({ canary: {} })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'canary.version is required', field: 'canary.version', rule: 'required' },
      },
      {
        name: 'a mistyped field',
        request: () => post(deploymentBody({ steps: [{ setWeight: '5' }] })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'steps[0].setWeight must be a number, not a string', field: 'steps[0].setWeight', rule: 'type' },
      },
      {
        name: 'a weight out of range',
        request: () => post(deploymentBody({ steps: [{ setWeight: 101 }] })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'steps[0].setWeight must be between 0 and 100', field: 'steps[0].setWeight', rule: 'too_big' },
      },
      {
        name: 'a weight going down without a rollback',
        request: () => post(deploymentBody({ steps: [{ setWeight: 50 }, { setWeight: 25 }] })),
        status: 400,
        error: {
          code: 'VALIDATION_FAILED',
          message: 'steps[1].setWeight 25 is lower than the 50 an earlier step gives cluster eks-use1: weights only go up (a rollback is not a step)',
          field: 'steps[1].setWeight',
          rule: 'weights-never-decrease',
        },
      },
      {
        name: 'a wave naming an unknown cloud',
        request: () => post(deploymentBody({ steps: [{ setWeight: 5, wave: ['azure'] }] })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'steps[0].wave[0] "azure" is neither a cloud nor a cluster this deployment reaches (eks-use1, gke-usc1)', field: 'steps[0].wave[0]', rule: 'known-wave' },
      },
      {
        name: 'an unknown field',
        request: () => post(deploymentBody({ canaryWeight: 5 })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'canaryWeight is not a known field', field: 'canaryWeight', rule: 'no-unknown-fields' },
      },
      {
        name: 'an unknown field inside a step',
        request: () => post(deploymentBody({ steps: [{ setWeight: 5, wieght: 1 }] })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'steps[0].wieght is not a known field', field: 'steps[0].wieght', rule: 'no-unknown-fields' },
      },
      {
        name: 'an invalid service name',
        request: () => post(deploymentBody({ service: 'Checkout_Service' })),
        status: 400,
        error: {
          code: 'VALIDATION_FAILED',
          message: 'service must be a DNS-1123 label: 1-63 lower-case letters, digits or "-", starting with a letter and not ending with "-"',
          field: 'service',
          rule: 'invalid_format',
        },
      },
      {
        name: 'a target cluster that is not configured',
        request: () => post(deploymentBody({ targets: [{ cloud: 'aws', cluster: 'eks-euw1' }] })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'targets[0].cluster "eks-euw1" is not a configured cluster (eks-use1, gke-usc1)', field: 'targets[0].cluster', rule: 'known-cluster' },
      },
      {
        name: 'a pause duration that does not parse',
        request: () => post(deploymentBody({ steps: [{ pause: { duration: 'five minutes' } }] })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'steps[0].pause.duration "five minutes" is not a duration such as 30s, 5m, 1h or 1h30m', field: 'steps[0].pause.duration', rule: 'duration' },
      },
      {
        name: 'a canary that is not registered',
        request: () => post(deploymentBody({ service: registered, canary: { version: 'v43' } })),
        status: 400,
        error: {
          code: 'VALIDATION_FAILED',
          message: `canary.version v43 is not registered for ${registered} (registered: v41, v42); register it with PUT /v1/services/${registered}/versions/v43`,
          field: 'canary.version',
          rule: 'registered',
        },
      },
      {
        name: 'a baseline that is not registered',
        request: () => post(deploymentBody({ service: registered, baseline: { version: 'v40' } })),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: `baseline.version v40 is not registered for ${registered} (registered: v41, v42)`, field: 'baseline.version', rule: 'registered' },
      },
      {
        name: 'an analysis template that is not configured',
        request: () => post(deploymentBody({ service: registered, steps: [{ setWeight: 5 }, { analysis: { template: 'http-golden-signal', interval: '1m', count: 5 } }] })),
        status: 400,
        error: {
          code: 'VALIDATION_FAILED',
          message: 'steps[1].analysis.template "http-golden-signal" is not a configured analysis template (http-golden-signals)',
          field: 'steps[1].analysis.template',
          rule: 'known-template',
        },
      },
      {
        name: 'an analysis with no metrics',
        request: () => post(deploymentBody({ service: registered, steps: [{ analysis: { metrics: [], interval: '1m', count: 5 } }] })),
        status: 400,
        error: {
          code: 'VALIDATION_FAILED',
          message: 'steps[0].analysis.metrics must list at least one metric: an analysis without metrics judges nothing',
          field: 'steps[0].analysis.metrics',
          rule: 'metrics-not-empty',
        },
      },
      {
        name: 'no token',
        request: () => post(deploymentBody(), {}),
        status: 401,
        error: { code: 'UNAUTHENTICATED', message: 'missing Authorization header: send "Authorization: Bearer <token>"' },
      },
      {
        name: 'a wrong token',
        request: () => post(deploymentBody(), bearer('cf_not_a_token_anybody_has_0000')),
        status: 401,
        error: { code: 'UNAUTHENTICATED', message: 'the bearer token is not valid' },
      },
      {
        name: 'a token outside its scope',
        request: () => post(deploymentBody(), bearer(tokens.paymentsDeployer)),
        status: 403,
        error: { code: 'FORBIDDEN', message: 'token payments-pipeline may not deploy service checkout (needs scope deploy:checkout or admin)', rule: 'scope' },
      },
      {
        name: 'a read-only token creating a deployment',
        request: () => post(deploymentBody(), bearer(tokens.reader)),
        status: 403,
        error: { code: 'FORBIDDEN', message: 'token auditor may not deploy service checkout (needs scope deploy:checkout or admin)', rule: 'scope' },
      },
      {
        name: 'a malformed idempotency key',
        request: () => post(deploymentBody(), { ...bearer(tokens.admin), 'x-idempotency-key': 'has spaces in it' }),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'X-Idempotency-Key must be 1-200 printable ASCII characters without spaces', field: 'X-Idempotency-Key', rule: 'idempotency-key' },
      },
    ];

    it.each(cases)('$name → $status', async ({ request, status, error }) => {
      const answer = await sendWritingNothing(target, request());
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toBe(JSON_TYPE);
      expect(answer.body).toEqual({ error });
    });
  });

  describe('reading', () => {
    it('404s an unknown deployment', async () => {
      const answer = await target.send({ method: 'GET', path: '/v1/deployments/dep_00000000000000000000000000', headers: bearer(tokens.admin) });
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ error: { code: 'NOT_FOUND', message: 'deployment dep_00000000000000000000000000 does not exist' } });
    });

    it("403s a deployment of a service outside the token's scope", async () => {
      const created = await target.send(post(deploymentBody({ service: await freshService(), spinnaker: undefined })));
      expect(created.status).toBe(202);
      const id = (created.body as { id: string }).id;
      const answer = await target.send({ method: 'GET', path: `/v1/deployments/${id}`, headers: bearer(tokens.paymentsDeployer) });
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ error: { code: 'FORBIDDEN', rule: 'scope' } });
    });

    it('lists every service only for tokens that reach them all', async () => {
      const narrow = await target.send({ method: 'GET', path: '/v1/deployments', headers: bearer(tokens.checkoutDeployer) });
      expect(narrow.status).toBe(403);
      const wide = await target.send({ method: 'GET', path: '/v1/deployments?status=NOT_STARTED&limit=2', headers: bearer(tokens.reader) });
      expect(wide.status).toBe(200);
      const page = wide.body as { items: { status: string }[]; nextCursor: string | null };
      expect(page.items).toHaveLength(2);
      expect(page.items.every((d) => d.status === 'NOT_STARTED')).toBe(true);
      expect(typeof page.nextCursor).toBe('string');
    });

    it('refuses a listing filter that is not a status', async () => {
      const answer = await target.send({ method: 'GET', path: '/v1/deployments?service=checkout&status=DONE', headers: bearer(tokens.reader) });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: { code: 'VALIDATION_FAILED', message: 'status must be one of NOT_STARTED, RUNNING, SUCCEEDED, TERMINAL, CANCELED', field: 'status', rule: 'enum' },
      });
    });
  });
});
