/**
 * Spinnaker replays requests and two pipelines race: creating a deployment must stay exactly-once
 * under concurrency. Runs the local server on DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { bearer, apiTableOnDynamoDbLocal, localTarget, tokens, type HttpTarget } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';
import { scanTable } from '../support/store-backends.js';

let table: TableHandle;
let target: HttpTarget;

beforeAll(async () => {
  table = await apiTableOnDynamoDbLocal('races');
  target = await localTarget();
});

afterAll(async () => {
  await target.stop();
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
    expect(itemsOfKind(items, 'EVT#')).toHaveLength(1);
    expect(itemsOfKind(items, 'DEP#')[0]!['id']).toBe((first.body as { id: string }).id);
  });

  it('concurrent creates without a key each make their own deployment', async () => {
    const before = itemsOfKind(await scanTable(table), 'DEP#').length;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        target.send({ method: 'POST', path: '/v1/deployments', headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: JSON.stringify(deploymentBody({ spinnaker: undefined })) }),
      ),
    );
    expect(new Set(answers.map((a) => (a.body as { id: string }).id)).size).toBe(10);
    expect(itemsOfKind(await scanTable(table), 'DEP#')).toHaveLength(before + 10);
  });
});
