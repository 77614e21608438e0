/**
 * Spinnaker replays requests and two pipelines race: creating a deployment must stay exactly-once
 * under concurrency, and one service gets one deployment at a time. Runs the local server on
 * DynamoDB Local, starting runs on the fake Step Functions.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { bearer, apiTableOnDynamoDbLocal, localTarget, registerVersions, tokens, uniqueService, type ApiEnvironment, type HttpTarget } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';
import { scanTable } from '../support/store-backends.js';

let api: ApiEnvironment;
let table: TableHandle;
let target: HttpTarget;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('races');
  table = api.table;
  target = await localTarget();
  await registerVersions(target, 'checkout');
});

afterAll(async () => {
  await target.stop();
  await api.stop();
});

function itemsOfKind(items: Record<string, unknown>[], prefix: string): Record<string, unknown>[] {
  return items.filter((item) => String(item['pk']).startsWith(prefix));
}

describe('concurrent creates', () => {
  it('50 creates with one idempotency key make one deployment and give 50 identical answers', async () => {
    const key = `01HRACE-${randomUUID()}-3`;
    const body = JSON.stringify(deploymentBody());
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        target.send({ method: 'POST', path: '/v1/deployments', headers: { ...bearer(tokens.admin), 'content-type': 'application/json', 'x-idempotency-key': key }, body }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    const first = answers[0]!;
    for (const answer of answers) {
      expect(answer.text).toBe(first.text);
      expect(answer.headers['location']).toBe(first.headers['location']);
    }
    const items = await scanTable(table);
    expect(itemsOfKind(items, 'DEP#')).toHaveLength(1);
    expect(itemsOfKind(items, 'IDEM#')).toHaveLength(1);
    expect(itemsOfKind(items, 'EVT#deployment/')).toHaveLength(1);
    const id = (first.body as { id: string }).id;
    expect(itemsOfKind(items, 'DEP#')[0]!['id']).toBe(id);
    expect(itemsOfKind(items, 'LOCK#checkout')).toMatchObject([{ owner: id }]);
    // Every answer started the run; Step Functions knows one execution, named after the deployment.
    expect(api.stepFunctions.callsOf('StartExecution')).toHaveLength(50);
    expect([...api.stepFunctions.executions.keys()]).toEqual([id]);
  });

  it('concurrent creates without a key, each for its own service, each make their own deployment', async () => {
    const services = Array.from({ length: 10 }, () => uniqueService());
    for (const service of services) await registerVersions(target, service);
    const before = itemsOfKind(await scanTable(table), 'DEP#').length;
    const answers = await Promise.all(
      services.map((service) =>
        target.send({ method: 'POST', path: '/v1/deployments', headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: JSON.stringify(deploymentBody({ service, spinnaker: undefined })) }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((a) => (a.body as { id: string }).id)).size).toBe(10);
    expect(itemsOfKind(await scanTable(table), 'DEP#')).toHaveLength(before + 10);
  });

  it('concurrent creates of one service by two pipelines, each replaying its stage: one pipeline gets its deployment, the other 409 naming it, and leaves nothing behind', async () => {
    const service = uniqueService();
    await registerVersions(target, service);
    const before = await scanTable(table);
    const body = (pipeline: string) => JSON.stringify(deploymentBody({ service, spinnaker: { executionId: `01H-${pipeline}-${service}`, stageId: '3', application: service, pipeline } }));
    const answers = await Promise.all(
      ['deploy-prod', 'hotfix'].flatMap((pipeline) =>
        Array.from({ length: 5 }, () => target.send({ method: 'POST', path: '/v1/deployments', headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: body(pipeline) })),
      ),
    );

    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 409);
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(5);
    const winner = (accepted[0]!.body as { id: string }).id;
    for (const answer of accepted) expect(answer.text).toBe(accepted[0]!.text);
    for (const answer of refused) expect(answer.body).toMatchObject({ error: { code: 'CONFLICT', holder: winner } });
    // All five of one pipeline were accepted (replays of one deployment), all five of the other refused.
    expect([[...Array(5).fill(202), ...Array(5).fill(409)], [...Array(5).fill(409), ...Array(5).fill(202)]]).toContainEqual(answers.map((a) => a.status));

    const after = await scanTable(table);
    const added = after.filter((item) => !before.some((old) => old['pk'] === item['pk'] && old['sk'] === item['sk']));
    expect(itemsOfKind(added, 'DEP#').map((item) => item['id'])).toEqual([winner]);
    // The losing pipeline's claims were forgotten: a retry once the service is free creates its deployment.
    expect(itemsOfKind(added, 'IDEM#')).toHaveLength(1);
    expect(itemsOfKind(after, `LOCK#${service}`)).toMatchObject([{ owner: winner }]);
    expect(api.stepFunctions.executions.has(winner)).toBe(true);
  });
});
