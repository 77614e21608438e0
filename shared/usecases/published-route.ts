/**
 * Whether an Envoy group's published snapshot routes a service by a split: what convergence and a
 * registration's answer read back. Only the service's own part is read (its route over ADS, its
 * virtual host in the Envoy route), whatever the size of the group's snapshot.
 */
import type { Split } from '../domain/mesh.js';
import { carriesSplit, publishedSplit } from '../engine/envoy/published-split.js';
import { XdsType } from '../engine/envoy/snapshot.js';
import type { PartStore, PartsHead } from '../ports/part-store.js';

/** Whether the snapshot `head` (a group's HEAD, read by the caller) routes `service` by `split`. */
export async function headRoutesCarry(parts: PartStore, head: PartsHead, service: string, split: Split): Promise<boolean> {
  const part = (await parts.parts(head, [service])).get(service);
  if (!part) return false;
  const hosts = part.fragments.filter((f) => f.typeUrl === XdsType.Route).map((f) => ({ name: f.resource, resource: { [f.field]: [f.value] } }));
  return carriesSplit(publishedSplit([...(part.resources[XdsType.Route] ?? []), ...hosts], service), service, split);
}
