/**
 * AWS Lambda invoked by a Step Functions Task state, through middy: the task stack (the second of
 * docs/architecture.md's two). It hands the event to the task and returns its output; it never turns
 * an error into an output, because Step Functions retries and catches on the error's `name`
 * (Lambda reports a thrown error as `errorType` = its name).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

export type LambdaTaskHandler = (event: unknown, context: Context) => Promise<unknown>;

/** @param build makes the task function; called once, on the first invocation of a cold start. */
export function lambdaTaskHandler(build: () => (event: unknown) => Promise<unknown>): LambdaTaskHandler {
  let run: ((event: unknown) => Promise<unknown>) | undefined;
  return middy<unknown, unknown>().handler(async function runStateMachineTask(event) {
    run ??= build();
    return run(event);
  });
}
