/** Lambda `services`: register, deregister and describe versions in the mesh (docs/api.md "Mesh registration"). */
import { createHttpHandler } from '../shared/http/handle.js';
import { serviceRoutes } from '../shared/http/routes/services.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { buildHttpDeps } from '../shared/runtime/deps.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';

export const handler = lambdaHttpHandler(() => createHttpHandler(buildHttpDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery }), serviceRoutes));
