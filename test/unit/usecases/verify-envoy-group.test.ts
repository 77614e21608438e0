/** Whether an Envoy group runs its published snapshot, from acknowledgements (shared/usecases/verify-envoy-group.ts), on fakes. */
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../../../shared/domain/errors.js';
import type { ProxyGroup } from '../../../shared/domain/mesh.js';
import { XdsType } from '../../../shared/engine/envoy/snapshot.js';
import { verifyEnvoyGroup } from '../../../shared/usecases/verify-envoy-group.js';
import { rejectionOf } from '../../support/errors.js';
import { FixedClock } from '../../support/fakes.js';
import { InMemoryPartStore, InMemorySnapshotStore, TEST_PROXY_GROUPS } from '../../support/mesh-fakes.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const GROUP: ProxyGroup = {
  name: 'envoy-aws-use1',
  kind: 'envoy',
  cloud: 'aws',
  region: 'us-east-1',
  proxies: [{ nodeId: 'envoy-1' }, { nodeId: 'envoy-2' }],
  xds: { api: 'rest', clusterName: 'crossfade_xds', refreshDelaySeconds: 5, requestTimeoutSeconds: 5 },
};
const PUBLISHED = { [XdsType.Cluster]: 'c1', [XdsType.Endpoint]: 'e1', [XdsType.Listener]: 'l1', [XdsType.Route]: 'r1' };

async function published(): Promise<{ snapshots: InMemorySnapshotStore; parts: InMemoryPartStore; clock: FixedClock }> {
  const parts = new InMemoryPartStore();
  parts.seedHead(GROUP.name, PUBLISHED, T0.toISOString());
  return { snapshots: new InMemorySnapshotStore(), parts, clock: new FixedClock(T0) };
}

async function reports(snapshots: InMemorySnapshotStore, nodeId: string, versions: Record<string, string>): Promise<void> {
  for (const [typeUrl, version] of Object.entries(versions)) await snapshots.recordAck({ group: GROUP.name, nodeId, typeUrl, version, at: T0.toISOString() });
}

describe('verifyEnvoyGroup', () => {
  it('converged: every configured node reports every published version', async () => {
    const d = await published();
    await reports(d.snapshots, 'envoy-1', PUBLISHED);
    await reports(d.snapshots, 'envoy-2', PUBLISHED);
    await reports(d.snapshots, 'envoy-unlisted', { [XdsType.Route]: 'r0' });
    expect(await verifyEnvoyGroup(d, GROUP)).toEqual({ state: 'converged' });
  });

  it('pending: names each node that runs something else, with what it runs per type, and nodes never seen', async () => {
    const d = await published();
    await reports(d.snapshots, 'envoy-1', { ...PUBLISHED, [XdsType.Route]: 'r0', [XdsType.Endpoint]: '' });
    expect(await verifyEnvoyGroup(d, GROUP)).toEqual({
      state: 'pending',
      lagging: [
        { proxy: 'envoy-1', reason: 'runs ClusterLoadAssignment none, published e1; runs RouteConfiguration r0, published r1' },
        { proxy: 'envoy-2', reason: 'has never polled' },
      ],
    });
  });

  it('names a rejection once a node handed the published version still reports another after its poll window', async () => {
    const d = await published();
    await reports(d.snapshots, 'envoy-1', { ...PUBLISHED, [XdsType.Route]: 'r0' });
    await reports(d.snapshots, 'envoy-2', PUBLISHED);
    await d.snapshots.recordServed({ group: GROUP.name, nodeId: 'envoy-1', typeUrl: XdsType.Route, version: 'r1', at: T0.toISOString() });

    // Within 2 × refresh delay + request timeout (15 s) it may just not have polled again.
    d.clock.advance(14_000);
    expect(await verifyEnvoyGroup(d, GROUP)).toEqual({ state: 'pending', lagging: [{ proxy: 'envoy-1', reason: 'runs RouteConfiguration r0, published r1' }] });
    d.clock.advance(1_000);
    expect(await verifyEnvoyGroup(d, GROUP)).toEqual({
      state: 'pending',
      lagging: [{ proxy: 'envoy-1', reason: 'rejected RouteConfiguration r1 (handed to it at 2026-01-01T00:00:00.000Z; it still runs r0)' }],
    });
  });

  it('pending when nothing is published: publishing is what fixes it', async () => {
    const verification = await verifyEnvoyGroup({ snapshots: new InMemorySnapshotStore(), parts: new InMemoryPartStore(), clock: new FixedClock(T0) }, GROUP);
    expect(verification).toEqual({
      state: 'pending',
      lagging: [
        { proxy: 'envoy-1', reason: 'nothing is published for proxy group envoy-aws-use1' },
        { proxy: 'envoy-2', reason: 'nothing is published for proxy group envoy-aws-use1' },
      ],
    });
  });

  it('unknown, never converged, when the group lists no node ids to check', async () => {
    const d = await published();
    const verification = await verifyEnvoyGroup(d, { ...GROUP, proxies: [] });
    expect(verification).toMatchObject({ state: 'unknown', reason: expect.stringContaining('lists no node ids') });
  });

  it('refuses an HAProxy group (a wiring bug), and lets a store failure through', async () => {
    const d = await published();
    expect(await rejectionOf(verifyEnvoyGroup(d, TEST_PROXY_GROUPS[1]!))).toMatchObject({ name: 'InternalError' });
    d.snapshots.failNext('listAcks', new DependencyUnavailableError('DynamoDB table t', 'list acknowledgements'));
    expect(await rejectionOf(verifyEnvoyGroup(d, GROUP))).toMatchObject({ name: 'DependencyUnavailableError' });
  });
});
