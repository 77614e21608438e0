/**
 * The two DynamoDB-compatible backends every store test runs against: DynamoDB Local (the real
 * thing's local build) and dynalite (the embedded store `npm start` uses). Each test file gets
 * fresh, randomly named tables, so files can run in parallel against one DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createTableHandle, type TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo.js';
import type { PartStore } from '../../shared/ports/part-store.js';

export interface StoreBackend {
  name: 'dynamodb-local' | 'embedded';
  /** A new, empty table, ready to use. */
  freshTable(): Promise<TableHandle>;
  stop(): Promise<void>;
}

const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fakesecretfakesecret' };

export async function dynamoDbLocalBackend(): Promise<StoreBackend> {
  const endpoint = inject('dynamoDbLocalEndpoint');
  return backend('dynamodb-local', endpoint, async () => {});
}

export async function embeddedBackend(): Promise<StoreBackend> {
  const embedded: EmbeddedDynamo = await startEmbeddedDynamo({});
  return backend('embedded', embedded.endpoint, () => embedded.stop());
}

export const backendFactories = [
  ['dynamodb-local', dynamoDbLocalBackend],
  ['embedded', embeddedBackend],
] as const;

function backend(name: StoreBackend['name'], endpoint: string, stop: () => Promise<void>): StoreBackend {
  return {
    name,
    async freshTable() {
      const table = createTableHandle({ region: 'us-east-1', endpoint, credentials, requestTimeoutMs: 10_000 }, `t-${randomUUID()}`);
      await ensureTable(table);
      return table;
    },
    stop,
  };
}

/** Every item in the table: what "nothing was written" is checked against. */
export async function scanTable(table: TableHandle): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.documents.send(new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}


/**
 * Runs `act` and answers what it wrote to the table: the items that are new or changed, and
 * whether any item disappeared (`removed`). A refused request's "only its audit event" is
 * `{added: [that event], removed: 0}`.
 */
export async function writesOf<T>(table: TableHandle, act: () => Promise<T>): Promise<{ result: T; added: Record<string, unknown>[]; removed: number }> {
  const before = await scanTable(table);
  const result = await act();
  const after = await scanTable(table);
  const seen = new Set(before.map((item) => JSON.stringify(item)));
  const added = after.filter((item) => !seen.has(JSON.stringify(item)));
  return { result, added, removed: before.length + added.length - after.length };
}

/** `parts` whose HEAD reads fail while `down()` says so, as an unreachable table would: what an xDS server following the store then sees. */
export function headsFailWhile(parts: PartStore, down: () => boolean): PartStore {
  return {
    head: (name) => (down() ? Promise.reject(new Error('the table cannot be reached')) : parts.head(name)),
    parts: (...args) => parts.parts(...args),
    manifest: (...args) => parts.manifest(...args),
    allParts: (...args) => parts.allParts(...args),
    resources: (...args) => parts.resources(...args),
    publish: (...args) => parts.publish(...args),
  };
}
