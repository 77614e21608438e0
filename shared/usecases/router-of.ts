/**
 * The traffic router wired for a proxy group's kind; a missing one is a wiring bug, not a proxy fault.
 *
 * The Envoy router needs nothing but the stores and the publisher every use case has
 * (envoy-router.ts), so a composition that wires none (unit tests, the bench, a caller that spreads
 * deps of its own) gets one built on the deps it passes, once per deps object, with a coalescing
 * publisher of its own when the deps hold none. The functions wire theirs in runtime/compose.ts.
 */
import { InternalError } from '../domain/errors.js';
import type { ProxyGroup } from '../domain/mesh.js';
import type { RegistrySourcedRouter, TrafficRouter } from '../ports/traffic-router.js';
import { coalescingPublisher, type Publish } from './coalescing-publisher.js';
import { EnvoyTrafficRouter } from './envoy-router.js';
import type { ReconcileDeps } from './reconcile-mesh.js';
import type { XdsDeps } from './xds-deps.js';

type RouterDeps = Partial<Pick<ReconcileDeps, 'routers'> & XdsDeps> & { publish?: Publish };

const envoyRouters = new WeakMap<object, TrafficRouter>();

export function routerOf(deps: RouterDeps, group: ProxyGroup): TrafficRouter {
  const router = deps.routers?.[group.kind] ?? (group.kind === 'envoy' ? envoyRouterOn(deps) : undefined);
  if (!router) throw new InternalError(`no ${group.kind} router is wired for proxy group ${group.name}`);
  return router;
}

export function isSourcedFromRegistry(router: TrafficRouter): router is RegistrySourcedRouter {
  return (router as Partial<RegistrySourcedRouter>).sourcedFromRegistry === true;
}

function envoyRouterOn(deps: RouterDeps): TrafficRouter | undefined {
  const { registry, parts, snapshots, proxyGroups, clock, logger, hash } = deps;
  if (!registry || !parts || !snapshots || !proxyGroups || !clock || !logger || !hash) return undefined;
  let router = envoyRouters.get(deps);
  if (!router) {
    const publish = deps.publish ?? coalescingPublisher({ registry, parts, snapshots, proxyGroups, clock, logger, hash });
    router = new EnvoyTrafficRouter({ parts, snapshots, clock, logger, publish });
    envoyRouters.set(deps, router);
  }
  return router;
}
