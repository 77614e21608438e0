/**
 * Lambda `discovery`: Envoy's REST-JSON discovery API, `POST /v3/discovery:{clusters,endpoints,listeners,routes}`.
 * It reads published snapshots and records acknowledgements: the store and nothing else.
 */
import { createHttpHandler } from '../shared/http/handle.js';
import { discoveryRoutes } from '../shared/http/routes/discovery.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { composeDeps } from '../shared/runtime/compose.js';

export const handler = lambdaHttpHandler(() => createHttpHandler(composeDeps({ env: process.env, configRequired: true }), discoveryRoutes));
