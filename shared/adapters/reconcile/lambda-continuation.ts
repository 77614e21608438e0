/**
 * Fan-out of a reconcile run on AWS: the reconcile function invokes itself asynchronously
 * (InvocationType `Event`) with `{"reconcileRun": "<id>"}`, so the run is driven by a fresh
 * invocation with a whole timeout ahead of it while the caller (an HTTP request answering 202, an
 * invocation near its timeout) returns. Lambda queues the event and retries it twice on error; a
 * run that still stops is picked up by the next scheduled invocation from its cursor.
 */
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DependencyUnavailableError } from '../../domain/errors.js';

interface LambdaSdk {
  client: LambdaClient;
  InvokeCommand: typeof InvokeCommand;
}

export interface LambdaContinuationOptions {
  functionName: string;
  region: string;
  /** Tests: a Lambda API on loopback, and keys to sign for it. Default: Lambda's own, the role's credentials. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The payload a continuation carries, and how the handler recognises one. */
export interface ReconcileContinuation {
  reconcileRun: string;
}

export function isReconcileContinuation(event: unknown): event is ReconcileContinuation {
  return typeof event === 'object' && event !== null && typeof (event as { reconcileRun?: unknown }).reconcileRun === 'string';
}

export function lambdaContinuation(options: LambdaContinuationOptions): (runId: string) => Promise<void> {
  // Built on the first dispatch: most invocations of the function never dispatch, so the client is
  // not part of their cold start.
  let lambda: Promise<LambdaSdk> | undefined;
  return async (runId) => {
    lambda ??= import('@aws-sdk/client-lambda').then((sdk) => ({ InvokeCommand: sdk.InvokeCommand, client: new sdk.LambdaClient({ region: options.region, endpoint: options.endpoint, credentials: options.credentials }) }));
    const { client, InvokeCommand } = await lambda;
    const payload: ReconcileContinuation = { reconcileRun: runId };
    try {
      await client.send(new InvokeCommand({ FunctionName: options.functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
    } catch (error) {
      throw new DependencyUnavailableError(`Lambda function ${options.functionName}`, `continue reconcile run ${runId}`, { cause: error });
    }
  };
}
