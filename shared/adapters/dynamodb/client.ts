/**
 * The DynamoDB client, built once per cold start by the entry point and injected, plus the one
 * place SDK failures become crossfade errors.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mapConcurrently } from '../../domain/concurrency.js';
import { ConfigError, CrossfadeError, DependencyUnavailableError, InternalError } from '../../domain/errors.js';
import type { AwsCredentialsProvider } from '../clusters/eks.js';

export interface DynamoDbSettings {
  region: string;
  /** Only for DynamoDB Local / the embedded store; undefined: the real regional endpoint. */
  endpoint?: string;
  /**
   * Local endpoints accept any; the GCP functions pass a provider (keyless federation or a static
   * key); undefined: the SDK's default chain (Lambda's role).
   */
  credentials?: { accessKeyId: string; secretAccessKey: string } | AwsCredentialsProvider;
  /** Per-attempt socket timeout. Lambda's HTTP functions have 10 s; three attempts must fit. */
  requestTimeoutMs?: number;
  /**
   * Sockets to the endpoint, and how long a request may wait to get one and connect. The SDK's
   * connection timer also runs while a request queues for a free socket, so a process with many
   * requests in flight (the local stack running many canaries) needs more of both; a Lambda
   * instance serves one request at a time and keeps the defaults (50 sockets, 1 s).
   */
  maxSockets?: number;
  connectionTimeoutMs?: number;
}

export interface TableHandle {
  documents: DynamoDBDocumentClient;
  tableName: string;
}

export function createTableHandle(settings: DynamoDbSettings, tableName: string): TableHandle {
  const client = new DynamoDBClient({
    region: settings.region,
    endpoint: settings.endpoint,
    credentials: settings.credentials,
    maxAttempts: 3,
    requestHandler: {
      requestTimeout: settings.requestTimeoutMs ?? 2_500,
      connectionTimeout: settings.connectionTimeoutMs ?? 1_000,
      ...(settings.maxSockets ? { httpAgent: { maxSockets: settings.maxSockets, keepAlive: true } } : {}),
    },
  });
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { documents, tableName };
}

/**
 * Whether the SDK's default chain finds AWS credentials on this machine (environment, shared
 * files, SSO, web identity, a container's or an instance's role) within `timeoutMs`. A
 * long-running process asks once at start, rather than have every later request fail.
 */
export async function awsCredentialsAvailable(region: string, timeoutMs = 5_000): Promise<boolean> {
  const client = new DynamoDBClient({ region });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const found = client.config.credentials().then(() => true, () => false);
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    return await Promise.race([found, late]);
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}

const THROTTLES = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException']);
const TRANSIENT = new Set(['InternalServerError', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout', 'TransactionConflictException']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** DynamoDB refused the request itself: from a listing given a cursor, the key that cursor carried. */
export function isValidationFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException';
}

/** Turns an SDK failure into the project's error, naming the table and the verb. */
export function storeFailure(error: unknown, table: string, verb: string): Error {
  // Already ours: the credentials provider's (a role that refuses our identity, STS unreachable).
  if (error instanceof CrossfadeError) return error;
  const name = error instanceof Error ? error.name : '';
  const code = (error as { code?: string } | null)?.code ?? '';
  const resource = `DynamoDB table ${table}`;
  if (THROTTLES.has(name)) return new DependencyUnavailableError(resource, verb, { cause: error, throttled: true, retryAfterSeconds: 1 });
  if (TRANSIENT.has(name) || NETWORK_CODES.has(code) || isNetworkFailure(error)) {
    return new DependencyUnavailableError(resource, verb, { cause: error, retryAfterSeconds: 2 });
  }
  if (name === 'ResourceNotFoundException') {
    return new ConfigError(`${resource} does not exist (${verb}); create it or set CROSSFADE_TABLE`, 'CROSSFADE_TABLE');
  }
  return new InternalError(`${resource}: ${verb} failed: ${name || 'Error'}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function isNetworkFailure(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | null)?.cause;
  return typeof cause?.code === 'string' && NETWORK_CODES.has(cause.code);
}

/** Every item a query matches, page after page; a failure becomes the project's error naming `verb`. */
export async function queryAll(table: TableHandle, input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>, verb: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  try {
    do {
      const page = await table.documents.send(new QueryCommand({ ...input, TableName: table.tableName, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  } catch (error) {
    throw storeFailure(error, table.tableName, verb);
  }
  return items;
}

export type ItemKey = { pk: string; sk: string };

/** BatchGetItem calls that return nothing in a row before giving up (throttling). */
const BATCH_IDLE_ATTEMPTS = 6;

/**
 * Reads `wanted` by key with BatchGetItem, `batchKeys` keys per request and `concurrency` requests
 * at once, handing every item found to `onItem`. BatchGetItem answers what fits in one response
 * (16 MB on DynamoDB, about 1 MB on the embedded store) and hands back the rest: it is asked again
 * at once while answers make progress, backed off, and given up after a few tries (a retryable
 * DependencyUnavailableError), only when one returns nothing. Keys DynamoDB does not have are
 * simply not handed over.
 */
export async function batchGetKeys(
  table: TableHandle,
  wanted: readonly ItemKey[],
  options: { consistent: boolean; batchKeys: number; concurrency: number; verb: string },
  onItem: (item: Record<string, unknown>) => void,
): Promise<void> {
  const batches: ItemKey[][] = [];
  for (let i = 0; i < wanted.length; i += options.batchKeys) batches.push(wanted.slice(i, i + options.batchKeys));
  await mapConcurrently(batches, options.concurrency, async (batch) => {
    let pending: Record<string, unknown>[] = batch;
    for (let idle = 0; pending.length > 0; ) {
      if (idle >= BATCH_IDLE_ATTEMPTS) throw new DependencyUnavailableError(`DynamoDB table ${table.tableName}`, `${options.verb}: keys left unprocessed`, { throttled: true });
      if (idle > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** idle));
      let answer;
      try {
        answer = await table.documents.send(new BatchGetCommand({ RequestItems: { [table.tableName]: { Keys: pending, ConsistentRead: options.consistent } } }));
      } catch (error) {
        throw storeFailure(error, table.tableName, options.verb);
      }
      const items = answer.Responses?.[table.tableName] ?? [];
      for (const item of items) onItem(item);
      pending = answer.UnprocessedKeys?.[table.tableName]?.Keys ?? [];
      idle = items.length > 0 ? 0 : idle + 1;
    }
  });
}
