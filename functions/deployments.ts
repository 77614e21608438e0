/**
 * Lambda `deployments`: create, read and list deployments (docs/api.md "Deployments"). A create
 * starts a run, checks its queries and asks the rules services, and notifies.
 */
import { createHttpHandler } from '../shared/http/handle.js';
import { deploymentRoutes } from '../shared/http/routes/deployments.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { composeDeps } from '../shared/runtime/compose.js';
import { metricsProvidersOf } from '../shared/runtime/metrics.js';
import { notificationsOf } from '../shared/runtime/notifications.js';
import { rulesServicesOf } from '../shared/runtime/policy.js';
import { workflowFromEnv } from '../shared/runtime/workflow.js';

export const handler = lambdaHttpHandler(() => 
  createHttpHandler(composeDeps({ env: process.env, configRequired: true, runs: workflowFromEnv, metrics: metricsProvidersOf, rulesServices: rulesServicesOf, notifications: notificationsOf }), deploymentRoutes),
);
