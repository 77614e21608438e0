/** Lambda `discovery`: Envoy's REST-JSON discovery API, `POST /v3/discovery:{clusters,endpoints,listeners,routes}`. */
import { createHttpHandler } from '../shared/http/handle.js';
import { discoveryRoutes } from '../shared/http/routes/discovery.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { buildHttpDeps } from '../shared/runtime/deps.js';

export const handler = lambdaHttpHandler(() => createHttpHandler(buildHttpDeps({ env: process.env, configRequired: true }), discoveryRoutes));
