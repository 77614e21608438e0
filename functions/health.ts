/** Lambda `health`: GET /healthz. */
import { createHttpHandler } from '../shared/http/handle.js';
import { healthRoutes } from '../shared/http/routes/health.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { buildHttpDeps } from '../shared/runtime/deps.js';

export const handler = lambdaHttpHandler(() => createHttpHandler(buildHttpDeps({ env: process.env, configRequired: true }), healthRoutes));
