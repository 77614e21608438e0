/**
 * Lambda `reconcile`: `POST /v1/reconcile` and `GET /v1/reconcile/runs/{runId}`; on EventBridge's
 * schedule the sweep of unfinished runs (their executions started again when they are not
 * running) then a reconcile run of every service in shards (usecases/reconcile-run.ts); and the
 * continuations of such a run, `{"reconcileRun": "<id>"}`, which it sends itself
 * (adapters/reconcile/lambda-continuation.ts): a run is driven until the invocation nears its
 * timeout, then handed to a fresh invocation. An API Gateway event or a direct invocation
 * (docs/direct-invocation.md) is served by the HTTP stack; the other events let errors through,
 * so Lambda's retries and alarms see them.
 */
import type { Context } from 'aws-lambda';
import { isDirectInvocation } from '../shared/http/direct-invocation.js';
import { createHttpHandler } from '../shared/http/handle.js';
import { reconcileRoutes } from '../shared/http/routes/reconcile.js';
import { lambdaHttpHandler, type LambdaHttpEvent } from '../shared/platform/lambda-http.js';
import { composeDeps, type RuntimeDeps } from '../shared/runtime/compose.js';
import { regionFromEnv } from '../shared/runtime/core.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';
import { maintenance } from '../shared/runtime/maintenance.js';
import { notificationsOf } from '../shared/runtime/notifications.js';
import { isReconcileContinuation, lambdaContinuation, type ReconcileContinuation } from '../shared/runtime/reconcile-continuation.js';
import { workflowFromEnv } from '../shared/runtime/workflow.js';

/** Left of the timeout when no further shard is begun: a shard of 250 services takes a few seconds. */
const SHARD_RESERVE_MS = 60_000;

let deps: RuntimeDeps | undefined;
function depsOnce(): RuntimeDeps {
  if (deps) return deps;
  deps = composeDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery, runs: workflowFromEnv, notifications: notificationsOf });
  const functionName = process.env['AWS_LAMBDA_FUNCTION_NAME'];
  if (functionName) deps.dispatchReconcile = lambdaContinuation({ functionName, region: regionFromEnv(process.env) });
  return deps;
}
const http = lambdaHttpHandler(() => createHttpHandler(depsOnce(), reconcileRoutes));

export async function handler(event: LambdaHttpEvent | ReconcileContinuation | { source?: string }, context: Context) {
  if ('requestContext' in event || isDirectInvocation(event)) return http(event as LambdaHttpEvent, context);
  const jobs = maintenance(depsOnce());
  // The first shard is always begun: every invocation makes progress, so continuations cannot loop
  // without end whatever the timeout.
  let begun = 0;
  const keepGoing = () => begun++ === 0 || context.getRemainingTimeInMillis() > SHARD_RESERVE_MS;
  const scheduled = isReconcileContinuation(event) ? { mesh: await jobs.continueReconcile(event.reconcileRun, { keepGoing }) } : await jobs.scheduled(keepGoing);
  if (scheduled.mesh.outcome === 'paused' && scheduled.mesh.run) await depsOnce().dispatchReconcile?.(scheduled.mesh.run.id);
  return scheduled;
}
