/**
 * One REST-xDS poll (docs/dataplane.md): the version the node reports is recorded as its
 * acknowledgement, and the node gets 304 when that version is the published one, else the type's
 * resources. EDS naming its clusters (Envoy over REST: one subscription per cluster) is answered per
 * resource: 304 when the named set is current, else only the named resources, read from their
 * services' parts. A current poll makes one read (the group's HEAD) and one conditional write (the
 * acknowledgement, refused by the store when nothing changed), side by side; only a node that is
 * behind costs the chunk reads. The protocol itself is the engine's (engine/envoy/discovery.ts).
 */
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { DEFAULT_XDS_TRANSPORT } from '../domain/mesh.js';
import { answerDiscovery, answeredPerResource, answerNamed, ownersOfNamed, type DiscoveryAnswer, type DiscoveryRequest } from '../engine/envoy/discovery.js';
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
  const perResource = answeredPerResource(request);
  // What the node reports is its acknowledgement whatever is published, so it need not wait for the
  // read; a per-resource request's is known only once its set's version is.
  const [head] = await Promise.all([deps.parts.head(group.name), perResource ? undefined : deps.snapshots.recordAck({ ...report, version: request.versionInfo })]);
  const published = head?.versions[request.typeUrl];
  if (!head || published === undefined) throw new NotFoundError(`nothing has been published for proxy group ${group.name} yet`);
  if (request.versionInfo === published) {
    if (perResource) await deps.snapshots.recordAck({ ...report, version: published });
    return { status: 304 };
  }
  if (perResource) {
    const owners = await deps.parts.parts(head, ownersOfNamed(request));
    const { answer, current } = answerNamed(request, [...owners.values()]);
    // Current on what it asks for, the node runs what is published (verification compares acknowledgements with the HEAD's versions).
    await deps.snapshots.recordAck({ ...report, version: current ? published : request.versionInfo });
    if (answer.status === 200) await deps.snapshots.recordServed({ ...report, version: published });
    return answer;
  }

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
