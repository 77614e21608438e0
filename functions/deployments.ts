/** Lambda `deployments`: create, read and list deployments (docs/api.md "Deployments"). */
import { createHttpHandler } from '../shared/http/handle.js';
import { deploymentRoutes } from '../shared/http/routes/deployments.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { buildHttpDeps } from '../shared/runtime/deps.js';

export const handler = lambdaHttpHandler(() => createHttpHandler(buildHttpDeps({ env: process.env, configRequired: true }), deploymentRoutes));
