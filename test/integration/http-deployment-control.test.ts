/**
 * One deployment per service, and an operator's (or Spinnaker's) requests to a deployment
 * (docs/api.md: cancel, promote, pause, resume, rollback, events), run through the Lambda bundles,
 * functions-framework and the local server on DynamoDB Local. Runs are started on the fake Step
 * Functions and never run here, so every answer is the API's own decision: a cancel decides the
 * rollback (ROLLING_BACK, still RUNNING) and the run, were there one, would carry it out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import {
  apiTableOnDynamoDbLocal,
  bearer,
  registerVersions,
  targetFactories,
  tokens,
  uniqueService,
  type Answer,
  type ApiEnvironment,
  type HttpTarget,
  type Sent,
} from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';
import { scanTable } from '../support/store-backends.js';

const JSON_TYPE = 'application/json; charset=utf-8';

let api: ApiEnvironment;
let table: TableHandle;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('control');
  table = api.table;
});

afterAll(async () => {
  await api.stop();
});

function create(body: Record<string, unknown>, token: string = tokens.checkoutDeployer): Sent {
  return { method: 'POST', path: '/v1/deployments', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function control(id: string, verb: string, body?: unknown, token: string = tokens.checkoutDeployer): Sent {
  return {
    method: 'POST',
    path: `/v1/deployments/${id}/${verb}`,
    headers: { ...bearer(token), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

/** Sends the request and checks that the table is exactly as it was before. */
async function sendWritingNothing(target: HttpTarget, request: Sent): Promise<Answer> {
  const before = await scanTable(table);
  const answer = await target.send(request);
  expect(await scanTable(table)).toEqual(before);
  return answer;
}

/** The Spinnaker stage that created a deployment: each pipeline has its own execution, hence its own idempotency key. */
function spinnaker(service: string, pipeline: string): Record<string, unknown> {
  return { executionId: `01H-${pipeline}-${service}`, stageId: '3', application: service, pipeline };
}

describe.each(targetFactories)('deployment control through %s', (_name, factory) => {
  let target: HttpTarget;
  /** A pending deployment nobody touches but the bad requests. */
  let pending: { id: string; service: string };

  const createFresh = async (pipeline = 'deploy-prod'): Promise<{ id: string; service: string; doc: Record<string, unknown> }> => {
    const service = uniqueService();
    await registerVersions(target, service);
    const created = await target.send(create(deploymentBody({ service, spinnaker: spinnaker(service, pipeline) })));
    expect(created.status).toBe(202);
    const doc = created.body as Record<string, unknown>;
    return { id: doc['id'] as string, service, doc };
  };

  beforeAll(async () => {
    target = await factory();
    const { id, service } = await createFresh();
    pending = { id, service };
  });
  afterAll(async () => {
    await target.stop();
  });

  it('one deployment per service: another pipeline gets 409 naming the holder, and nothing of its request stays', async () => {
    const first = await createFresh('deploy-prod');
    const executions = api.stepFunctions.executions.size;

    const second = await sendWritingNothing(target, create(deploymentBody({ service: first.service, spinnaker: spinnaker(first.service, 'hotfix') })));

    expect(second.status).toBe(409);
    expect(second.headers['content-type']).toBe(JSON_TYPE);
    expect(second.body).toEqual({ error: { code: 'CONFLICT', message: expect.stringContaining(`service ${first.service} is locked by ${first.id}`), holder: first.id } });
    // No run was started for the refused one; the holder's replay still answers 202 with its document.
    expect(api.stepFunctions.executions.size).toBe(executions);
    const replay = await sendWritingNothing(target, create(deploymentBody({ service: first.service, spinnaker: spinnaker(first.service, 'deploy-prod') })));
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual(first.doc);
  });

  it('cancel decides the rollback and answers the document; a second cancel changes nothing and answers the same', async () => {
    const { id, service, doc } = await createFresh();

    const canceled = await target.send(control(id, 'cancel', { reason: 'INC-42: error budget spent' }));
    expect(canceled.status).toBe(200);
    expect(canceled.headers['content-type']).toBe(JSON_TYPE);
    expect(canceled.body).toMatchObject({ id, service, status: 'RUNNING', phase: 'ROLLING_BACK', step: { index: 0, count: 6 }, weights: {}, result: null, createdAt: doc['createdAt'] });

    const again = await sendWritingNothing(target, control(id, 'cancel'));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(canceled.body);
    expect((again.body as { updatedAt: string }).updatedAt).toBe((canceled.body as { updatedAt: string }).updatedAt);

    const read = await target.send({ method: 'GET', path: `/v1/deployments/${id}`, headers: bearer(tokens.reader) });
    expect(read.body).toEqual(canceled.body);

    // Once the end is decided, only cancel is accepted: promote and rollback are 409, and write nothing.
    const promote = await sendWritingNothing(target, control(id, 'promote'));
    expect(promote.status).toBe(409);
    expect(promote.body).toMatchObject({ error: { code: 'CONFLICT', message: `cannot promote deployment ${id}: it is rolling back` } });
    const rollback = await sendWritingNothing(target, control(id, 'rollback'));
    expect(rollback.status).toBe(409);
    expect(rollback.body).toMatchObject({ error: { code: 'CONFLICT', message: `cannot rollback deployment ${id}: it is rolling back` } });

    // The service stays locked until the run has rolled back and released it.
    const next = await sendWritingNothing(target, create(deploymentBody({ service, spinnaker: spinnaker(service, 'hotfix') })));
    expect(next.status).toBe(409);
    expect(next.body).toMatchObject({ error: { holder: id } });

    const events = await target.send({ method: 'GET', path: `/v1/deployments/${id}/events`, headers: bearer(tokens.reader) });
    expect(events.status).toBe(200);
    expect(events.body).toEqual({
      items: [
        expect.objectContaining({ subject: `deployment/${id}`, eventId: 'v000001-created', action: 'deployment.created', actor: 'checkout-pipeline', at: doc['createdAt'] }),
        {
          subject: `deployment/${id}`,
          eventId: 'v000002-cancel',
          at: (canceled.body as { updatedAt: string }).updatedAt,
          actor: 'checkout-pipeline',
          action: 'deployment.cancel',
          reason: 'INC-42: error budget spent',
          details: { phase: 'ROLLING_BACK', stepIndex: 0 },
        },
      ],
      nextCursor: null,
    });
  });

  it('promote outside a pause is 409 and writes nothing', async () => {
    const { id } = await createFresh();

    const answer = await sendWritingNothing(target, control(id, 'promote', { reason: 'looks fine' }));

    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({
      error: { code: 'CONFLICT', message: `deployment ${id} is not at a pause (step 1/6 is setWeight); promote with {"full": true} to skip to 100%` },
    });
  });

  it('pause holds the deployment, a second pause changes nothing, resume lifts it', async () => {
    const { id } = await createFresh();

    const paused = await target.send(control(id, 'pause'));
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id, status: 'NOT_STARTED', phase: 'PENDING' });
    const again = await sendWritingNothing(target, control(id, 'pause'));
    expect(again.body).toEqual(paused.body);

    const resumed = await target.send(control(id, 'resume'));
    expect(resumed.status).toBe(200);
    const events = await target.send({ method: 'GET', path: `/v1/deployments/${id}/events?limit=2`, headers: bearer(tokens.checkoutDeployer) });
    const page = events.body as { items: { eventId: string }[]; nextCursor: string | null };
    expect(page.items.map((e) => e.eventId)).toEqual(['v000001-created', 'v000002-pause']);
    const rest = await target.send({ method: 'GET', path: `/v1/deployments/${id}/events?limit=2&cursor=${encodeURIComponent(page.nextCursor!)}`, headers: bearer(tokens.checkoutDeployer) });
    expect((rest.body as { items: { eventId: string }[] }).items.map((e) => e.eventId)).toEqual(['v000003-resume']);
  });

  describe('refuses bad requests with the documented error, writing nothing', () => {
    // `error` is a function where it names the pending deployment, which exists only once the target has started.
    const cases: { name: string; request: () => Sent; status: number; error: Record<string, unknown> | (() => Record<string, unknown>) }[] = [
      {
        name: 'an unknown field in a cancel',
        request: () => control(pending.id, 'cancel', { reasn: 'typo' }),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'reasn is not a known field', field: 'reasn', rule: 'no-unknown-fields' },
      },
      {
        name: 'full on a request other than promote',
        request: () => control(pending.id, 'rollback', { full: true }),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'full is not a known field', field: 'full', rule: 'no-unknown-fields' },
      },
      {
        name: 'a promote whose full is not a boolean',
        request: () => control(pending.id, 'promote', { full: 'yes' }),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'full must be a boolean, not a string', field: 'full', rule: 'type' },
      },
      {
        name: 'an empty reason',
        request: () => control(pending.id, 'pause', { reason: '' }),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'reason must not be empty', field: 'reason', rule: 'too_small' },
      },
      {
        name: 'a body that is not JSON',
        request: () => control(pending.id, 'cancel', '{"reason":'),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/^body is not valid JSON: /), rule: 'json' },
      },
      {
        name: 'a deployment that does not exist',
        request: () => control('dep_00000000000000000000000000', 'cancel'),
        status: 404,
        error: { code: 'NOT_FOUND', message: 'deployment dep_00000000000000000000000000 does not exist' },
      },
      {
        name: 'a token outside its scope',
        request: () => control(pending.id, 'cancel', undefined, tokens.paymentsDeployer),
        status: 403,
        error: () => ({ code: 'FORBIDDEN', message: `token payments-pipeline may not deploy service ${pending.service} (needs scope deploy:${pending.service} or admin)`, rule: 'scope' }),
      },
      {
        name: 'a read-only token',
        request: () => control(pending.id, 'pause', undefined, tokens.reader),
        status: 403,
        error: () => ({ code: 'FORBIDDEN', message: `token auditor may not deploy service ${pending.service} (needs scope deploy:${pending.service} or admin)`, rule: 'scope' }),
      },
      {
        name: 'no token',
        request: () => ({ ...control(pending.id, 'cancel'), headers: { 'content-type': 'application/json' } }),
        status: 401,
        error: { code: 'UNAUTHENTICATED', message: 'missing Authorization header: send "Authorization: Bearer <token>"' },
      },
      {
        name: 'an events page of 0',
        request: () => ({ method: 'GET', path: `/v1/deployments/${pending.id}/events?limit=0`, headers: bearer(tokens.reader) }),
        status: 400,
        error: { code: 'VALIDATION_FAILED', message: 'limit must be a whole number from 1 to 100', field: 'limit', rule: 'range' },
      },
    ];

    it.each(cases)('$name → $status', async ({ request, status, error }) => {
      const answer = await sendWritingNothing(target, request());
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toBe(JSON_TYPE);
      expect(answer.body).toEqual({ error: typeof error === 'function' ? error() : error });
    });

    it('and the deployment they named is as it was created', async () => {
      const read = await target.send({ method: 'GET', path: `/v1/deployments/${pending.id}`, headers: bearer(tokens.reader) });
      expect(read.body).toMatchObject({ id: pending.id, status: 'NOT_STARTED', phase: 'PENDING' });
      const events = await target.send({ method: 'GET', path: `/v1/deployments/${pending.id}/events`, headers: bearer(tokens.reader) });
      expect((events.body as { items: { eventId: string }[] }).items.map((e) => e.eventId)).toEqual(['v000001-created']);
    });
  });
});
