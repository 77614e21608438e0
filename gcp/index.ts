/**
 * GCP Cloud Functions entry points (functions-framework):
 * - `api` serves every route of the HTTP API;
 * - `reconcile` takes Cloud Scheduler's Pub/Sub CloudEvent, starts again every unfinished run whose
 *   execution is not running, then starts (or joins) a reconcile run of every service and drives it
 *   shard by shard for up to 240 s, letting errors through so Pub/Sub redelivers. A run `POST
 *   /v1/reconcile` starts on `api` is driven by this function's next tick.
 * - `notify` takes Cloud Scheduler's CloudEvent every minute and delivers the notification outbox
 *   (docs/notifications.md), within NOTIFY_BUDGET_MS.
 * All sign their AWS calls (the DynamoDB table, Step Functions) with the credentials
 * runtime/gcp-aws-credentials.ts chooses: keyless (the service account's Google identity traded for
 * a role's temporary credentials) or a static key.
 * gcp/deploy.ts deploys them. See docs/deploy-gcp.md.
 */
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { createApiHandler } from '../shared/http/routes.js';
import { functionsFrameworkHandler, routeBodyParserErrorsToUs } from '../shared/platform/functions-framework.js';
import { buildHttpDeps, type RuntimeDeps } from '../shared/runtime/deps.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';
import { gcpAwsCredentials } from '../shared/runtime/gcp-aws-credentials.js';
import { maintenance } from '../shared/runtime/maintenance.js';
import { drainOutbox } from '../shared/runtime/dispatch-loop.js';

// Read when the instance starts: with no way to reach AWS configured, the instance fails to start
// with the reason (so does the deploy), rather than answering every request with an error.
const awsCredentials = gcpAwsCredentials(process.env);

let deps: RuntimeDeps | undefined;
const depsOnce = (): RuntimeDeps => (deps ??= buildHttpDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery, awsCredentials }));

export const api = functionsFrameworkHandler(() => createApiHandler(depsOnce()));

/** Shards are begun until this long after the event (deploy-plan.ts gives the function 300 s); a paused run goes on at the next tick, from its cursor. */
const RECONCILE_BUDGET_MS = 240_000;

export async function reconcile(): Promise<void> {
  const began = Date.now();
  const { runs, mesh } = await maintenance(depsOnce()).scheduled(() => Date.now() - began < RECONCILE_BUDGET_MS);
  depsOnce().logger.info('scheduled reconciliation', { runs: runs.summary, mesh: { outcome: mesh.outcome, run: mesh.run } });
}

/** How long one scheduled `notify` run may deliver: under a minute, so runs do not overlap. */
const NOTIFY_BUDGET_MS = 50_000;

export async function notify(): Promise<void> {
  const notifications = depsOnce().notifications;
  if (!notifications) return;
  const until = Date.now() + NOTIFY_BUDGET_MS;
  const report = await drainOutbox(notifications.dispatch, () => until - Date.now());
  depsOnce().logger.info('scheduled notification delivery', report);
}

routeBodyParserErrorsToUs(api);
http('api', api);
cloudEvent('reconcile', reconcile);
cloudEvent('notify', notify);
