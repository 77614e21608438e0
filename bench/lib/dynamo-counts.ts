/**
 * Counting DynamoDB requests, two ways, both in process and without an extra network hop:
 *
 * - `countCommands(table)`: a middleware on a table handle the bench built itself; one count per
 *   command sent (an SDK retry of the same command is not counted again).
 * - `startCountedDynalite()`: the embedded store itself (local/embedded-dynamo.ts, in memory),
 *   with a request hook that counts every HTTP request by its X-Amz-Target operation: what any client sent, including the
 *   local stack's own client, which the bench cannot reach.
 */
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { startEmbeddedDynamo } from '../../local/embedded-dynamo.js';

export type OperationCounts = Record<string, number>;

/** Operations that read items. */
export const READ_OPERATIONS: ReadonlySet<string> = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

export function sumOf(counts: OperationCounts, operations?: ReadonlySet<string>): number {
  return Object.entries(counts).reduce((sum, [operation, n]) => sum + (operations === undefined || operations.has(operation) ? n : 0), 0);
}

/** What happened between two snapshots of the counts. */
export function countsSince(before: OperationCounts, after: OperationCounts): OperationCounts {
  const delta: OperationCounts = {};
  for (const [operation, n] of Object.entries(after)) {
    const d = n - (before[operation] ?? 0);
    if (d > 0) delta[operation] = d;
  }
  return delta;
}

export interface CommandCounter {
  /** A copy of the counts so far, by operation (`Query`, `PutItem`, …). */
  counts(): OperationCounts;
}

export function countCommands(table: TableHandle): CommandCounter {
  const counts: OperationCounts = {};
  table.documents.middlewareStack.add(
    (next, context) => (args) => {
      const operation = String(context['commandName'] ?? 'unknown').replace(/Command$/, '');
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCommandCounter' },
  );
  return { counts: () => ({ ...counts }) };
}

export interface CountedDynalite {
  endpoint: string;
  counts(): OperationCounts;
  stop(): Promise<void>;
}

export async function startCountedDynalite(): Promise<CountedDynalite> {
  const counts: OperationCounts = {};
  const embedded = await startEmbeddedDynamo({
    onRequest: (request) => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.indexOf('.') + 1) || 'unknown';
      counts[operation] = (counts[operation] ?? 0) + 1;
    },
  });
  return { endpoint: embedded.endpoint, counts: () => ({ ...counts }), stop: () => embedded.stop() };
}
