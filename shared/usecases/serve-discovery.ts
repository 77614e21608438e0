/**
 * One REST-xDS poll (docs/dataplane.md): the version the node reports is recorded as its
 * acknowledgement, and the node gets 304 when that version is the published one, else the type's
 * resources. A current poll makes one read (the group's HEAD) and one conditional write (the
 * acknowledgement, refused by the store when nothing changed), side by side; only a node that is
 * behind costs the chunk reads. The protocol itself is the engine's (engine/envoy/discovery.ts).
 */
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { DEFAULT_XDS_TRANSPORT } from '../domain/mesh.js';
import { answerDiscovery, type DiscoveryAnswer, type DiscoveryRequest } from '../engine/envoy/discovery.js';
import { XdsType, type Snapshot, type XdsResource, type XdsTypeUrl } from '../engine/envoy/snapshot.js';
import type { PartsHead } from '../ports/part-store.js';
import type { EnvoyGroup, XdsDeps } from './xds-deps.js';

export interface DiscoveryPoll {
  /** The node's group, as engine `groupOfNode` found it (the caller checked the node may read it). */
  group: EnvoyGroup;
  nodeId: string;
  request: DiscoveryRequest;
}

export async function serveDiscovery(deps: Pick<XdsDeps, 'snapshots' | 'parts' | 'clock'>, poll: DiscoveryPoll): Promise<DiscoveryAnswer> {
  const { group, nodeId, request } = poll;
  if ((group.xds ?? DEFAULT_XDS_TRANSPORT).api !== 'rest') {
    // Its snapshot points EDS and RDS at ADS, which an Envoy polling over REST would reject.
    throw new ValidationError(`proxy group ${group.name} is served over ADS (proxyGroups[].xds.api: ads): point node ${nodeId} at crossfade xds-server`, 'node', 'xds-transport');
  }
  const report = { group: group.name, nodeId, typeUrl: request.typeUrl, at: deps.clock.now().toISOString() };
  // What the node reports is its acknowledgement whatever is published, so it need not wait for the read.
  const [head] = await Promise.all([deps.parts.head(group.name), deps.snapshots.recordAck({ ...report, version: request.versionInfo })]);
  const published = head?.versions[request.typeUrl];
  if (!head || published === undefined) throw new NotFoundError(`nothing has been published for proxy group ${group.name} yet`);
  if (request.versionInfo === published) return { status: 304 };

  const resources = await deps.parts.resources(head, request.typeUrl);
  const answer = answerDiscovery(request, oneTypeSnapshot(head, request.typeUrl, resources));
  await deps.snapshots.recordServed({ ...report, version: published });
  return answer;
}

/** The engine answers from a Snapshot; a poll has read one type of it. */
function oneTypeSnapshot(head: PartsHead, typeUrl: XdsTypeUrl, resources: readonly XdsResource[]): Snapshot {
  const only = (t: XdsTypeUrl): readonly XdsResource[] => (t === typeUrl ? resources : []);
  const version = (t: XdsTypeUrl): string => head.versions[t] ?? '';
  return {
    group: head.group,
    resources: { [XdsType.Cluster]: only(XdsType.Cluster), [XdsType.Endpoint]: only(XdsType.Endpoint), [XdsType.Listener]: only(XdsType.Listener), [XdsType.Route]: only(XdsType.Route) },
    versions: { [XdsType.Cluster]: version(XdsType.Cluster), [XdsType.Endpoint]: version(XdsType.Endpoint), [XdsType.Listener]: version(XdsType.Listener), [XdsType.Route]: version(XdsType.Route) },
  };
}
