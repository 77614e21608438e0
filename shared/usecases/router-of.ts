/** The traffic router wired for a proxy group's kind; a missing one is a wiring bug, not a proxy fault. */
import { InternalError } from '../domain/errors.js';
import type { ProxyGroup } from '../domain/mesh.js';
import type { TrafficRouter } from '../ports/traffic-router.js';
import type { ReconcileDeps } from './reconcile-mesh.js';

export function routerOf(deps: Pick<ReconcileDeps, 'routers'>, group: ProxyGroup): TrafficRouter {
  const router = deps.routers[group.kind];
  if (!router) throw new InternalError(`no ${group.kind} router is wired for proxy group ${group.name}`);
  return router;
}
