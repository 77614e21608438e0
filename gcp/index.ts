/**
 * GCP Cloud Functions entry points (functions-framework):
 * - `api` serves every route of the HTTP API;
 * - `reconcile` takes Cloud Scheduler's Pub/Sub CloudEvent, starts again every unfinished run whose
 *   execution is not running, then reconciles the whole mesh, letting errors through so Pub/Sub
 *   redelivers.
 * gcp/deploy.ts deploys them. See docs/deploy-gcp.md.
 */
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { createApiHandler } from '../shared/http/routes.js';
import { functionsFrameworkHandler, routeBodyParserErrorsToUs } from '../shared/platform/functions-framework.js';
import { buildHttpDeps, type RuntimeDeps } from '../shared/runtime/deps.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';
import { maintenance } from '../shared/runtime/maintenance.js';

let deps: RuntimeDeps | undefined;
const depsOnce = (): RuntimeDeps => (deps ??= buildHttpDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery }));

export const api = functionsFrameworkHandler(() => createApiHandler(depsOnce()));

export async function reconcile(): Promise<void> {
  const { runs, mesh } = await maintenance(depsOnce()).scheduled();
  depsOnce().logger.info('scheduled reconciliation', { runs: runs.summary, mesh: mesh.summary });
}

routeBodyParserErrorsToUs(api);
http('api', api);
cloudEvent('reconcile', reconcile);
