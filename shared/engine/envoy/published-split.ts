/**
 * What a published snapshot gives a service: the split its route's `weighted_clusters` carry, read
 * back from the RouteConfigurations as stored. A traffic step verifies that the snapshot its Envoys
 * acknowledge carries its split, not only that they acknowledge the latest snapshot: a publish that
 * lost the race to another may not include it.
 */
import type { JsonObject } from '../../domain/json.js';
import type { Split } from '../../domain/mesh.js';
import { clusterName } from './snapshot.js';

interface RouteResource {
  readonly name: string;
  readonly resource: JsonObject;
}

/** The service's split in the first route configuration that routes it; undefined when none does. */
export function publishedSplit(routes: readonly RouteResource[], service: string): Record<string, number> | undefined {
  for (const { resource } of routes) {
    const hosts = (resource['virtual_hosts'] as JsonObject[] | undefined) ?? [];
    const host = hosts.find((h) => h['name'] === service);
    const routeList = (host?.['routes'] as JsonObject[] | undefined) ?? [];
    const clusters = ((routeList[0]?.['route'] as JsonObject | undefined)?.['weighted_clusters'] as JsonObject | undefined)?.['clusters'] as JsonObject[] | undefined;
    if (!clusters) continue;
    return Object.fromEntries(clusters.map((c) => [String(c['name']), Number(c['weight'] ?? 0)]));
  }
  return undefined;
}

/** Whether `published` (by cluster name) gives every version of `split` its percentage; versions at 0% may be absent. */
export function carriesSplit(published: Record<string, number> | undefined, service: string, split: Split): boolean {
  if (!published) return false;
  return Object.entries(split).every(([version, percent]) => (published[clusterName(service, version)] ?? 0) === percent);
}
