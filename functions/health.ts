/** Lambda `health`: GET /healthz. Built from the core alone (shared/runtime/health.ts): no SDK in this bundle. */
import { createHttpHandler } from '../shared/http/handle.js';
import { healthRoutes } from '../shared/http/routes/health.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { buildHealthDeps } from '../shared/runtime/health.js';

export const handler = lambdaHttpHandler(() => createHttpHandler(buildHealthDeps({ env: process.env, configRequired: true }), healthRoutes));
