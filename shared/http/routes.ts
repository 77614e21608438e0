/**
 * The one route table (shared/http/route.ts says what a route is). GCP and the local server serve
 * all of it; each AWS Lambda function imports only its own routes module, so its bundle carries
 * only the code those routes reach.
 */
import { createHttpHandler, pathPattern, type HttpHandler } from './handle.js';
import type { FunctionName, HttpDeps, Route } from './route.js';
import { deploymentRoutes } from './routes/deployments.js';
import { discoveryRoutes } from './routes/discovery.js';
import { healthRoutes } from './routes/health.js';
import { reconcileRoutes } from './routes/reconcile.js';
import { serviceRoutes } from './routes/services.js';

export { FunctionName, type HttpDeps, type Route, type RouteAnswer, type RouteContext } from './route.js';

export const routes: readonly Route[] = [...healthRoutes, ...deploymentRoutes, ...serviceRoutes, ...reconcileRoutes, ...discoveryRoutes];

/** The whole API; `only` keeps just these functions' routes (what one Lambda function would serve). */
export function createApiHandler(deps: HttpDeps, only?: readonly FunctionName[]): HttpHandler {
  return createHttpHandler(deps, only ? routes.filter((route) => only.includes(route.functionName)) : routes);
}

/**
 * The AWS Lambda function that serves `method path` (a direct invocation must reach the function
 * that has the route); for a path served with other methods only, the function that answers its 405.
 */
export function functionServing(method: string, path: string): FunctionName | undefined {
  const onPath = routes.filter((route) => pathPattern(route.path).test(path));
  return (onPath.find((route) => route.method === method.toUpperCase()) ?? onPath[0])?.functionName;
}
