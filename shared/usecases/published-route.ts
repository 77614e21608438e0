/** Whether an Envoy group's published snapshot routes a service by a split: what convergence and a registration's answer read back. */
import type { Split } from '../domain/mesh.js';
import { carriesSplit, publishedSplit } from '../engine/envoy/published-split.js';
import { XdsType } from '../engine/envoy/snapshot.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';

export async function publishedRoutesCarry(snapshots: SnapshotStore, group: string, service: string, split: Split): Promise<boolean> {
  const head = await snapshots.head(group);
  if (!head?.types[XdsType.Route]) return false;
  return carriesSplit(publishedSplit(await snapshots.resources(head, XdsType.Route), service), service, split);
}
