/**
 * What a real proxyless gRPC client (@grpc/grpc-js-xds) receives over ADS when one service of many
 * changes: only that service's EDS and RDS resources (the types whose responses may leave out what
 * did not change). The client, in a process of its own (test/support/xds-counting-client.ts),
 * watches 20 services through one ADS stream and reports every resource it handles; the count is
 * read between two markers on its output, so nothing is assumed about timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdsServer, type AdsServer } from '../../shared/adapters/xds/ads-server.js';
import type { RegisteredVersion, Split } from '../../shared/domain/mesh.js';
import { assertConsistent } from '../../shared/engine/envoy/consistency.js';
import { groupOfNode } from '../../shared/engine/envoy/discovery.js';
import { buildSnapshot, XdsType, type Snapshot } from '../../shared/engine/envoy/snapshot.js';
import { xdsCountingClientEnv } from '../support/xds-counting-client.js';

const NODE_ID = 'grpc-counting-1';
const group = { name: 'grpc-many', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: NODE_ID }] } as const;
const SERVICES = Array.from({ length: 20 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
const CHANGED = 'svc-07';
const SENTINEL = 'svc-19';
const CLIENT_START_MS = 90_000;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

interface Received {
  type: string;
  name: string;
}

/** Where each service's versions listen: a port per (service, version); changing one moves its endpoint. */
const ports = new Map<string, number>(SERVICES.map((service, i) => [`${service}/v1`, 20_000 + i]));
const splits = new Map<string, Split>(SERVICES.map((service) => [service, { v1: 100 }]));

function version(service: string, name: string): RegisteredVersion {
  const port = ports.get(`${service}/${name}`)!;
  return { service, version: name, clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address: '127.0.0.1', port, zone: 'use1-az1' }] }], registeredAt: '2026-01-01T00:00:00.000Z', registeredBy: 'test', revision: 1 };
}

function snapshot(): Snapshot {
  const services = SERVICES.map((service) => {
    const split = splits.get(service)!;
    return { service, split, versions: Object.keys(split).map((name) => version(service, name)) };
  });
  return buildSnapshot({ group, services }, { hash: sha256 });
}

let ads: AdsServer;
let client: ChildProcess;
const received: Received[] = [];

async function waitFor(what: string, condition: () => boolean, deadlineMs = 20_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}; the client received ${JSON.stringify(received.slice(-10))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Publishes the snapshot and waits until the client ACKed every type of it. */
async function publish(deadlineMs?: number): Promise<Snapshot> {
  const next = snapshot();
  ads.setSnapshot(group.name, next);
  await waitFor(`ACK of ${JSON.stringify(next.versions)}`, () => {
    const node = ads.knownNodes().find((n) => n.nodeId === NODE_ID);
    return node !== undefined && Object.entries(next.versions).every(([type, v]) => node.acked[type] === v);
  }, deadlineMs);
  return next;
}

/**
 * What the client received for `change`: everything it reported after the change was published and
 * before a sentinel change (SENTINEL's endpoint moves) that follows it. The client writes its lines
 * in the order it handles resources, so every line of `change` comes before the sentinel's.
 * `settled` says when the client has what the change should bring it (a new subscription's answer).
 */
async function receivedFor(change: () => void, settled: (got: readonly Received[]) => boolean = () => true): Promise<Received[]> {
  const from = received.length;
  change();
  await publish();
  // A resource the change made the client subscribe to comes after its ACK of the change.
  await waitFor('the client to settle on the change', () => settled(received.slice(from)));
  ports.set(`${SENTINEL}/v1`, ports.get(`${SENTINEL}/v1`)! + 1000);
  await publish();
  await waitFor('the sentinel change', () => received.slice(from).some((r) => r.type === XdsType.Endpoint && r.name === `${SENTINEL}--v1`));
  const sentinelAt = received.findIndex((r, i) => i >= from && r.type === XdsType.Endpoint && r.name === `${SENTINEL}--v1`);
  return received.slice(from, sentinelAt);
}

const namesOf = (list: readonly Received[], type: string): string[] => list.filter((r) => r.type === type).map((r) => r.name).sort();

describe('a grpc-js-xds client watching 20 services over one ADS stream', () => {
  beforeAll(async () => {
    ads = createAdsServer({ port: 0, rules: { checkSnapshot: (s) => assertConsistent(s as Snapshot), groupOfNode: (n) => groupOfNode(n, [group]) } });
    const { port } = await ads.start();
    ads.setSnapshot(group.name, snapshot());
    const env: Record<string, string | undefined> = { ...process.env, ...xdsCountingClientEnv(port, NODE_ID) };
    delete env['NODE_OPTIONS'];
    client = spawn(process.execPath, ['--import', 'tsx', new URL('../support/xds-counting-client.ts', import.meta.url).pathname, String(port), NODE_ID, ...SERVICES], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: client.stdout! }).on('line', (line) => line.startsWith('{') && received.push(JSON.parse(line) as Received));
    // The client's process loads tsx and grpc first, which on a loaded machine takes a while.
    await publish(CLIENT_START_MS);
  }, CLIENT_START_MS + 10_000);

  afterAll(async () => {
    if (client?.pid !== undefined && client.exitCode === null) process.kill(client.pid, 'SIGKILL');
    await ads?.stop();
  });

  it('first receives every service: 20 listeners, routes, clusters and endpoint sets', () => {
    for (const type of [XdsType.Listener, XdsType.Route]) expect(new Set(namesOf(received, type))).toEqual(new Set(SERVICES));
    for (const type of [XdsType.Cluster, XdsType.Endpoint]) expect(new Set(namesOf(received, type))).toEqual(new Set(SERVICES.map((s) => `${s}--v1`)));
  });

  it(`${CHANGED}'s endpoint moves: the client receives its one ClusterLoadAssignment and nothing else`, async () => {
    const got = await receivedFor(() => ports.set(`${CHANGED}/v1`, ports.get(`${CHANGED}/v1`)! + 1000));
    expect(got).toEqual([{ type: XdsType.Endpoint, name: `${CHANGED}--v1` }]);
  });

  it(`${CHANGED} gets a canary at 10%: RDS carries its route alone, EDS its new version alone; CDS is whole, as the protocol wants`, async () => {
    const got = await receivedFor(() => {
      ports.set(`${CHANGED}/v2`, 30_000);
      splits.set(CHANGED, { v1: 90, v2: 10 });
    }, (got) => got.some((r) => r.name === `${CHANGED}--v2` && r.type === XdsType.Endpoint));
    expect(namesOf(got, XdsType.Route)).toEqual([CHANGED]);
    expect(namesOf(got, XdsType.Endpoint)).toEqual([`${CHANGED}--v2`]);
    // Whole, and twice: once when published, once when the route makes the client subscribe to v2's cluster.
    expect(new Set(namesOf(got, XdsType.Cluster))).toEqual(new Set([...SERVICES.map((s) => `${s}--v1`), `${CHANGED}--v2`]));
    expect(namesOf(got, XdsType.Listener)).toEqual([]);
  });
});
