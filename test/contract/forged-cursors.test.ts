/** A cursor forged for the right query but carrying a key DynamoDB refuses is a 400, not a 500. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { makeDeployment } from '../support/deployments.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';
import { rejectionOf } from '../support/errors.js';

const forge = (q: string, k: Record<string, string>) => Buffer.from(JSON.stringify({ q, k }), 'utf8').toString('base64url');


describe.each(backendFactories)('forged cursors on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  it('DeploymentStore.list refuses them with ValidationError on "cursor"', async () => {
    const { deployments } = createDynamoDbStores(await backend.freshTable());
    await deployments.createIfAbsent(makeDeployment());
    const forged: [string, Record<string, string>][] = [
      ['deployments:*:*', {}],
      ['deployments:*:*', { pk: 'x' }],
      ['deployments:*:*', { pk: 'DEP#x', sk: 'META', gsi2pk: 'ELSEWHERE', gsi2sk: 'z' }],
      ['deployments:checkout:*', { pk: 'DEP#x', sk: 'META', gsi1pk: 'SVC#payments', gsi1sk: 'z' }],
    ];
    for (const [q, k] of forged) {
      const query = q === 'deployments:*:*' ? { limit: 10 } : { service: 'checkout', limit: 10 };
      const error = await rejectionOf(deployments.list({ ...query, cursor: forge(q, k) }));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ field: 'cursor' });
    }
  });

  it('AuditLog.list refuses them with ValidationError on "cursor"', async () => {
    const { audit } = createDynamoDbStores(await backend.freshTable());
    const forged: Record<string, string>[] = [{}, { pk: 'EVT#deployment/dep_1' }, { pk: 'EVT#deployment/other', sk: 'v1' }];
    for (const k of forged) {
      const error = await rejectionOf(audit.list('deployment/dep_1', { limit: 10, cursor: forge('audit:deployment/dep_1', k) }));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ field: 'cursor' });
    }
  });
});
