/**
 * Does every proxy of an Envoy group run the published snapshot? The Envoy half of the
 * TrafficRouter's `verifySplit` (ports/traffic-router.ts), answered from the acknowledgements the
 * discovery function records rather than by asking proxies: Envoy's applySplit is "publish", and a
 * published snapshot carries every service's split, so one answer serves every service of the group.
 *
 * - converged: every configured node reports every published type's version.
 * - pending: some node does not, each named with what it runs instead; a node that was handed the
 *   published version over REST and still reports another after its poll window rejected it (REST
 *   has no NACK: Envoy only reports what it applied, docs/dataplane.md; its `update_rejected` stat
 *   says why). Nothing published yet is pending too: publishing fixes it.
 * - unknown: the group lists no node ids, so no acknowledgement can be checked (an autoscaled fleet
 *   that joins by `node.cluster` is served, but cannot be verified).
 *
 * Throws DependencyUnavailableError when the store cannot be read (that is not a proxy's answer).
 */
import { InternalError } from '../domain/errors.js';
import { DEFAULT_XDS_TRANSPORT, type ProxyGroup } from '../domain/mesh.js';
import { XDS_PUSH_ORDER } from '../engine/envoy/snapshot.js';
import type { LaggingProxy, Verification } from '../ports/traffic-router.js';
import type { PartsHead } from '../ports/part-store.js';
import type { ProxyAck } from '../ports/snapshot-store.js';
import type { XdsDeps } from './xds-deps.js';

export async function verifyEnvoyGroup(deps: Pick<XdsDeps, 'snapshots' | 'parts' | 'clock'>, group: ProxyGroup): Promise<Verification> {
  if (group.kind !== 'envoy') throw new InternalError(`proxy group ${group.name} is of kind ${group.kind}; only envoy groups are verified by acknowledgement`);
  if (group.proxies.length === 0) return noNodeIds(group);
  const head = await deps.parts.head(group.name);
  if (!head) return { state: 'pending', lagging: group.proxies.map(({ nodeId }) => ({ proxy: nodeId, reason: `nothing is published for proxy group ${group.name}` })) };
  return verifyAcknowledgements(deps, group, head);
}

export function noNodeIds(group: ProxyGroup): Verification {
  return { state: 'unknown', reason: `proxy group ${group.name} lists no node ids (proxyGroups[].proxies): no acknowledgement can be checked` };
}

/** Whether every listed node of `group` reports running `head` (the HEAD the caller has read), by its acknowledgements. */
export async function verifyAcknowledgements(deps: Pick<XdsDeps, 'snapshots' | 'clock'>, group: Extract<ProxyGroup, { kind: 'envoy' }>, head: PartsHead): Promise<Extract<Verification, { state: 'converged' | 'pending' }>> {
  const acks = await deps.snapshots.listAcks(group.name);

  const nowMs = deps.clock.now().getTime();
  const graceMs = rejectionGraceMs(group);
  const byNode = new Map<string, Map<string, ProxyAck>>();
  for (const ack of acks) byNode.set(ack.nodeId, (byNode.get(ack.nodeId) ?? new Map<string, ProxyAck>()).set(ack.typeUrl, ack));

  const lagging: LaggingProxy[] = [];
  for (const { nodeId } of group.proxies) {
    const reported = byNode.get(nodeId);
    if (!reported) {
      lagging.push({ proxy: nodeId, reason: 'has never polled' });
      continue;
    }
    const reasons: string[] = [];
    for (const typeUrl of XDS_PUSH_ORDER) {
      const published = head.versions[typeUrl];
      const ack = reported.get(typeUrl);
      if (published === undefined || ack?.version === published) continue;
      const runs = ack === undefined || ack.version === '' ? 'none' : ack.version;
      const kind = kindOf(typeUrl);
      const handed = ack?.served?.version === published ? Date.parse(ack.served.at) : undefined;
      reasons.push(
        handed !== undefined && nowMs - handed >= graceMs
          ? `rejected ${kind} ${published} (handed to it at ${ack!.served!.at}; it still runs ${runs})`
          : `runs ${kind} ${runs}, published ${published}`,
      );
    }
    if (reasons.length > 0) lagging.push({ proxy: nodeId, reason: reasons.join('; ') });
  }
  return lagging.length > 0 ? { state: 'pending', lagging } : { state: 'converged' };
}

/**
 * How long a node handed a version may take to report it: its next poll comes within twice the
 * refresh delay (Envoy adds up to one delay of jitter), and may take the request timeout.
 */
function rejectionGraceMs(group: Extract<ProxyGroup, { kind: 'envoy' }>): number {
  const transport = group.xds ?? DEFAULT_XDS_TRANSPORT;
  const { refreshDelaySeconds, requestTimeoutSeconds } = transport.api === 'rest' ? transport : DEFAULT_XDS_TRANSPORT;
  return (2 * refreshDelaySeconds + requestTimeoutSeconds) * 1000;
}

function kindOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}
