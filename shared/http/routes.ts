/** The one route table every entry point serves (shared/http/route.ts says what a route is). */
import { authenticate, type Principal, type TokenIndex } from './auth.js';
import type { Route } from './route.js';
import { FunctionName } from './route.js';
import { deploymentRoutes } from './routes/deployments.js';
import { discoveryRoutes } from './routes/discovery.js';
import { reconcileRoutes } from './routes/reconcile.js';
import { serviceRoutes } from './routes/services.js';
import type { HttpRequest } from './types.js';

export { FunctionName, type HttpDeps, type Route, type RouteAnswer, type RouteContext } from './route.js';

const healthRoute: Route = {
  method: 'GET',
  path: '/healthz',
  functionName: FunctionName.Health,
  public: true,
  handle: async ({ deps }) => ({ statusCode: 200, body: { status: 'ok', version: deps.version } }),
};

export const routes: readonly Route[] = [healthRoute, ...deploymentRoutes, ...serviceRoutes, ...reconcileRoutes, ...discoveryRoutes];

export function authenticateRequest(request: HttpRequest, tokens: TokenIndex): Principal {
  return authenticate(request.headers['authorization'], tokens);
}

