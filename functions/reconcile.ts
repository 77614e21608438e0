/**
 * Lambda `reconcile`: `POST /v1/reconcile`, and on EventBridge's schedule the sweep of unfinished
 * runs (their executions started again when they are not running) then the reconciliation of the
 * mesh. One function (one role) takes both kinds of event: an API Gateway event or a direct
 * invocation (docs/direct-invocation.md) is served by the HTTP stack; a scheduled event lets errors through, so Lambda's retries and alarms see them, and
 * returns both reports.
 */
import type { Context } from 'aws-lambda';
import { isDirectInvocation } from '../shared/http/direct-invocation.js';
import { createHttpHandler } from '../shared/http/handle.js';
import { reconcileRoutes } from '../shared/http/routes/reconcile.js';
import { lambdaHttpHandler, type LambdaHttpEvent } from '../shared/platform/lambda-http.js';
import { composeDeps, type RuntimeDeps } from '../shared/runtime/compose.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';
import { maintenance } from '../shared/runtime/maintenance.js';
import { notificationsOf } from '../shared/runtime/notifications.js';
import { workflowFromEnv } from '../shared/runtime/workflow.js';

let deps: RuntimeDeps | undefined;
const depsOnce = (): RuntimeDeps => (deps ??= composeDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery, runs: workflowFromEnv, notifications: notificationsOf }));
const http = lambdaHttpHandler(() => createHttpHandler(depsOnce(), reconcileRoutes));

export async function handler(event: LambdaHttpEvent | { source?: string }, context: Context) {
  if ('requestContext' in event || isDirectInvocation(event)) return http(event as LambdaHttpEvent, context);
  return maintenance(depsOnce()).scheduled();
}
