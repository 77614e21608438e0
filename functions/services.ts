/** Lambda `services`: register, deregister and describe versions in the mesh (docs/api.md "Mesh registration"):
 * endpoint discovery, and notifications of what changed. */
import { createHttpHandler } from '../shared/http/handle.js';
import { serviceRoutes } from '../shared/http/routes/services.js';
import { lambdaHttpHandler } from '../shared/platform/lambda-http.js';
import { composeDeps } from '../shared/runtime/compose.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';
import { notificationsOf } from '../shared/runtime/notifications.js';

export const handler = lambdaHttpHandler(() => 
  createHttpHandler(composeDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery, notifications: notificationsOf }), serviceRoutes),
);
