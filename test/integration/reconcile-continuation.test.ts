/**
 * The AWS fan-out of a reconcile run (adapters/reconcile/lambda-continuation.ts): the real
 * @aws-sdk/client-lambda invokes the reconcile function asynchronously with `{"reconcileRun": id}`
 * through a fake Lambda Invoke API on loopback that checks SigV4, and a refusal is a retryable
 * DependencyUnavailableError naming the function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReconcileContinuation, lambdaContinuation } from '../../shared/adapters/reconcile/lambda-continuation.js';
import { rejectionOf } from '../support/errors.js';
import { startFakeLambda, type FakeLambda } from '../support/fake-clouds/lambda.js';

const credentials = { accessKeyId: 'AKIARECONCILE00001', secretAccessKey: 'reconcile-secret-key-000000000000000000001' };
let lambda: FakeLambda;
const received: unknown[] = [];

beforeAll(async () => {
  lambda = await startFakeLambda();
  lambda.addFunction('crossfade-test-reconcile', async (event: never) => {
    received.push(event);
    return null;
  });
});

afterAll(() => lambda.stop());

describe('a reconcile run continued in a fresh invocation', () => {
  it('invokes the reconcile function asynchronously with the run id, which the handler recognises', async () => {
    const dispatch = lambdaContinuation({ functionName: 'crossfade-test-reconcile', region: 'us-east-1', endpoint: lambda.endpoint, credentials });
    await dispatch('rec_01m922tjwc2j71g0j87sbbqcbf');
    expect(lambda.invocations).toEqual([{ functionName: 'crossfade-test-reconcile', event: { reconcileRun: 'rec_01m922tjwc2j71g0j87sbbqcbf' } }]);
    expect(lambda.requests.at(-1)?.headers['x-amz-invocation-type']).toBe('Event');
    expect(received.filter(isReconcileContinuation)).toHaveLength(1);
    expect(isReconcileContinuation({ source: 'aws.events' })).toBe(false);
  });

  it('answers a refused invocation with a retryable error naming the function', async () => {
    lambda.denyAccessKey(credentials.accessKeyId);
    const dispatch = lambdaContinuation({ functionName: 'crossfade-test-reconcile', region: 'us-east-1', endpoint: lambda.endpoint, credentials });
    const error = await rejectionOf(dispatch('rec_01m922tjwc2j71g0j87sbbqcbf'));
    expect(error).toMatchObject({ name: 'DependencyUnavailableError', retryable: true });
    expect((error as Error).message).toContain('Lambda function crossfade-test-reconcile');
  });
});
