/**
 * Lambda `reconcile`: `POST /v1/reconcile`, and the same use case on EventBridge's schedule. One
 * function (one role) takes both events: an API Gateway event is served by the HTTP stack; a
 * scheduled event runs the reconciliation and lets errors through, so Lambda's retries and alarms
 * see them, and returns the report.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createHttpHandler } from '../shared/http/handle.js';
import { reconcileRoutes } from '../shared/http/routes/reconcile.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { buildHttpDeps, type RuntimeDeps } from '../shared/runtime/deps.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';
import { reconcileMesh } from '../shared/usecases/reconcile-mesh.js';

let deps: RuntimeDeps | undefined;
const depsOnce = (): RuntimeDeps => (deps ??= buildHttpDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery }));
const http = lambdaHttpHandler(() => createHttpHandler(depsOnce(), reconcileRoutes));

export async function handler(event: APIGatewayProxyEventV2 | { source?: string }, context: Context) {
  if ('requestContext' in event) return http(event, context);
  return reconcileMesh(depsOnce(), {});
}
