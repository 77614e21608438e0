/**
 * The whole composition: every capability (runtime/compose.ts), for the entry points that serve
 * every route (GCP's `api`, the local stack) and for tests. A Lambda function composes only its
 * own instead (functions/*.ts), so its bundle holds only the SDKs its routes use.
 */
import { composeDeps, type RuntimeDeps, type RuntimeOptions } from './compose.js';
import { metricsProvidersOf } from './metrics.js';
import { notificationsOf } from './notifications.js';
import { rulesServicesOf } from './policy.js';
import { workflowFromEnv } from './workflow.js';

export { regionFromEnv } from './core.js';
export { tableFromEnv, type RuntimeDeps, type RuntimeOptions } from './compose.js';

export const everyCapability = { runs: workflowFromEnv, metrics: metricsProvidersOf, rulesServices: rulesServicesOf, notifications: notificationsOf } satisfies Partial<RuntimeOptions>;

export function buildHttpDeps(options: RuntimeOptions): RuntimeDeps {
  return composeDeps({ ...everyCapability, ...options });
}
