/**
 * GCP Cloud Functions entry points (functions-framework):
 * - `api` serves every route of the HTTP API;
 * - `reconcile` takes Cloud Scheduler's Pub/Sub CloudEvent and reconciles the whole mesh, letting
 *   errors through so Pub/Sub redelivers (API.md: "The same use case runs on a schedule").
 * gcp/deploy.ts deploys them. See docs/deploy-gcp.md.
 */
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { createApiHandler } from '../shared/http/routes.js';
import { functionsFrameworkHandler, routeBodyParserErrorsToUs } from '../shared/platform/functions-framework.js';
import { buildHttpDeps, type RuntimeDeps } from '../shared/runtime/deps.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';
import { reconcileMesh } from '../shared/usecases/reconcile-mesh.js';

let deps: RuntimeDeps | undefined;
const depsOnce = (): RuntimeDeps => (deps ??= buildHttpDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery }));

export const api = functionsFrameworkHandler(() => createApiHandler(depsOnce()));

export async function reconcile(): Promise<void> {
  const report = await reconcileMesh(depsOnce(), {});
  depsOnce().logger.info('scheduled reconciliation', report.summary);
}

routeBodyParserErrorsToUs(api);
http('api', api);
cloudEvent('reconcile', reconcile);
