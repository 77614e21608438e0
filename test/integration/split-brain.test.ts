/**
 * Split brain, on real parts: two `npm start` processes one after the other on one store (DynamoDB
 * Local or the embedded store), a real HAProxy proxy group and an Envoy group whose published
 * snapshot is read from the table.
 *
 * Deployment A (v1 → v2: 10%, pause, 50%, pause, 100%) is killed by a crash point while shifting to
 * 50% (step 2), before or after its split write. Its lease then runs out, and B (v1 → v3: 10%,
 * then a manual gate) takes the service in a second process. A goes on afterwards: its creation is
 * replayed with its idempotency key, or a restarted process's sweeper resumes it. Before fencing,
 * the registry then became `{v1:50,v2:50,v3:0}` while B reported `{v1:90,v3:10}`. Now:
 * - A ends FAILED, saying it lost the service (result and audit), and moves no traffic: the
 *   registry (every group, B's fencing token), HAProxy's weights read back through its admin
 *   socket and the Envoy group's published routes all equal B's status weights;
 * - with B at its gate, B keeps the lock and then promotes to SUCCEEDED normally;
 * - with B finished and released first, A takes the free lock again under a larger fencing token,
 *   gives it back, and ends FAILED; traffic stays B's final split.
 * The same sequences on fakes, task by task: test/unit/usecases/canary/fencing.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTableHandle, type TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { keys } from '../../shared/adapters/dynamodb/table.js';
import { haproxyBackendName } from '../../shared/adapters/haproxy/haproxy-router.js';
import { readStoreEndpoint } from '../../shared/adapters/local-store-endpoint.js';
import { publishedSplit } from '../../shared/engine/envoy/published-split.js';
import { clusterName, XdsType } from '../../shared/engine/envoy/snapshot.js';
import { apiCaller, auditOf, pollUntil, type AuditItem, type CanaryRig, type StatusDoc } from '../support/canary-rig.js';
import { startHaproxy, versionShares, type HaproxyInstance } from '../support/haproxy.js';
import { startHttpBackends, type HttpBackends } from '../support/http-backends.js';
import { killLocalProcesses, startLocalProcess, stopLocalProcess, waitFor, waitForOutput, type LocalProcess } from '../support/local-process.js';
import { LOOPBACK_CIDRS } from '../support/mesh-builders.js';
import { freePort } from '../support/ports.js';

const SERVICE = 'checkout';
const VERSIONS = ['v1', 'v2', 'v3'] as const;
const HAPROXY_GROUP = 'edge-use1';
const ENVOY_GROUP = 'envoy-use1';
const GROUPS = [HAPROXY_GROUP, ENVOY_GROUP];

type Traffic = Record<(typeof VERSIONS)[number], number>;

interface Case {
  /** Where the process running A dies: before A's 50% reaches the registry, or after (the proxies not yet programmed). */
  crashAt: 'task:shift:start:step2' | 'traffic:after-split-write:step2';
  /** What the registry holds for A when it died. */
  splitAtKill: Traffic;
  store: 'dynamodb-local' | 'embedded';
  /** Where B is when A goes on. */
  b: 'at-gate' | 'finished';
  /** What makes A go on: its creation replayed with its key, or the sweeper of a restarted process. */
  resumeA: 'replay' | 'sweeper';
}

// Every dimension twice: each crash point, store, B's state and way of resuming A meets each of the other's values once.
const CASES: Case[] = [
  { crashAt: 'task:shift:start:step2', splitAtKill: { v1: 90, v2: 10, v3: 0 }, store: 'dynamodb-local', b: 'at-gate', resumeA: 'replay' },
  { crashAt: 'traffic:after-split-write:step2', splitAtKill: { v1: 50, v2: 50, v3: 0 }, store: 'embedded', b: 'at-gate', resumeA: 'sweeper' },
  { crashAt: 'task:shift:start:step2', splitAtKill: { v1: 90, v2: 10, v3: 0 }, store: 'embedded', b: 'finished', resumeA: 'sweeper' },
  { crashAt: 'traffic:after-split-write:step2', splitAtKill: { v1: 50, v2: 50, v3: 0 }, store: 'dynamodb-local', b: 'finished', resumeA: 'replay' },
];

const A_BODY = {
  service: SERVICE,
  baseline: { version: 'v1' },
  canary: { version: 'v2' },
  steps: [{ setWeight: 10 }, { pause: { duration: '1s' } }, { setWeight: 50 }, { pause: { duration: '1s' } }, { setWeight: 100 }],
};
const B_BODY = { service: SERVICE, baseline: { version: 'v1' }, canary: { version: 'v3' }, steps: [{ setWeight: 10 }, { pause: {} }] };
const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fakesecretfakesecret' };

/** One scenario's world: the HAProxy, the backends, the configuration and store, and the `npm start` process of the moment. */
interface World {
  haproxy: HaproxyInstance;
  backends: HttpBackends;
  dir: string;
  ledger: string;
  env: Record<string, string | undefined>;
  process?: LocalProcess;
  call: CanaryRig['call'];
}

const worlds: World[] = [];

afterEach(async () => {
  killLocalProcesses();
  for (const world of worlds.splice(0)) {
    await world.haproxy.stop().catch(() => undefined);
    await world.backends.stop();
    rmSync(world.dir, { recursive: true, force: true });
  }
});

async function startWorld(store: Case['store']): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-split-brain-'));
  const backends = await startHttpBackends(VERSIONS);
  const haproxy = await startHaproxy('edge-1', [{ name: haproxyBackendName(SERVICE) }]);
  const world: World = { haproxy, backends, dir, ledger: join(dir, 'crash-ledger'), env: {}, call: () => Promise.reject(new Error('no crossfade is running')) };
  worlds.push(world);
  const config = {
    clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
    proxyGroups: [
      { name: HAPROXY_GROUP, kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [haproxy.proxy] },
      { name: ENVOY_GROUP, kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] },
    ],
    mesh: { allowedEndpointCidrs: LOOPBACK_CIDRS },
    // The shortest lease allowed; still too long to wait for, so leaseRunsOut stands for it.
    canary: { lockLeaseSeconds: 60 },
  };
  writeFileSync(join(dir, 'crossfade.json'), JSON.stringify(config));
  world.env = {
    CROSSFADE_CONFIG: join(dir, 'crossfade.json'),
    CROSSFADE_DATA_DIR: join(dir, 'data'),
    CROSSFADE_ADMIN_TOKEN: `cf_split_brain_${randomUUID()}`,
    CROSSFADE_LOCAL_WAIT_MS: '300',
    CROSSFADE_LOCAL_RETRY_MS: '200',
    // Nothing runs behind the test's back: runs resume only at start (when allowed), and no reconciliation repairs anything.
    CROSSFADE_SWEEP_SECONDS: '0',
    CROSSFADE_RECONCILE_SECONDS: '0',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    ...(store === 'dynamodb-local' ? { CROSSFADE_DYNAMODB_ENDPOINT: inject('dynamoDbLocalEndpoint'), CROSSFADE_TABLE: `split-brain-${randomUUID()}` } : {}),
  };
  return world;
}

/** `npm start` on the world's store; the previous process must have ended. */
async function startCrossfade(world: World, extra: Record<string, string> = {}): Promise<LocalProcess> {
  const port = await freePort();
  const started = startLocalProcess({ ...world.env, PORT: String(port), ...extra });
  await waitForOutput(started, /crossfade listening on /, 60_000);
  world.process = started;
  world.call = apiCaller(`http://127.0.0.1:${port}`, world.env['CROSSFADE_ADMIN_TOKEN']!);
  return started;
}

/** The table the running process uses: DynamoDB Local's, or the embedded store it published in its data directory. */
function tableOf(world: World): TableHandle {
  const published = readStoreEndpoint(world.env['CROSSFADE_DATA_DIR']!);
  const endpoint = world.env['CROSSFADE_DYNAMODB_ENDPOINT'] ?? published?.endpoint;
  const name = world.env['CROSSFADE_TABLE'] ?? published?.table;
  if (!endpoint || !name) throw new Error('no store to read: start crossfade first');
  return createTableHandle({ region: 'us-east-1', endpoint, credentials, requestTimeoutMs: 10_000 }, name);
}

async function register(world: World, version: string): Promise<void> {
  const endpoint = world.backends.endpointOf(version);
  const answer = await world.call('PUT', `/v1/services/${SERVICE}/versions/${version}`, {
    targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: SERVICE, kubernetesService: `${SERVICE}-${version}`, port: 8080, endpoints: [{ address: endpoint.address, port: endpoint.port }] }],
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

/** Every version of the service, absent ones at 0. */
function complete(split: Record<string, number> | undefined): Traffic {
  return Object.fromEntries(VERSIONS.map((v) => [v, split?.[v] ?? 0])) as Traffic;
}

interface ServedTraffic {
  /** Per proxy group: the registry's split and the fencing token it was written under. */
  registry: Record<string, { weights: Traffic; fencingToken: number | undefined }>;
  /** What the real HAProxy serves, read back through its admin socket. */
  haproxy: Traffic;
  /** What the Envoy group's published routes carry. */
  envoy: Traffic;
}

/** The service's traffic as every part holds it now. */
async function servedTraffic(world: World): Promise<ServedTraffic> {
  const table = tableOf(world);
  try {
    const stores = createDynamoDbStores(table);
    const state = await stores.registry.getService(SERVICE);
    const registry = Object.fromEntries((state?.splits ?? []).map((s) => [s.proxyGroup, { weights: complete(s.weights), fencingToken: s.fencingToken }]));
    const head = await stores.parts.head(ENVOY_GROUP);
    const routes = head ? await stores.parts.resources(head, XdsType.Route) : [];
    const byCluster = publishedSplit(routes, SERVICE);
    const envoy = complete(Object.fromEntries(VERSIONS.map((v) => [v, byCluster?.[clusterName(SERVICE, v)] ?? 0])));
    const haproxy = complete((await versionShares(world.haproxy.adminPort, haproxyBackendName(SERVICE))).shares);
    return { registry, haproxy, envoy };
  } finally {
    table.documents.destroy();
  }
}

/** Every part serves `traffic`, and the registry's splits carry `fencingToken`. */
function expectServed(served: ServedTraffic, traffic: Traffic, fencingToken: number): void {
  expect(served).toEqual({
    registry: Object.fromEntries(GROUPS.map((group) => [group, { weights: traffic, fencingToken }])),
    haproxy: traffic,
    envoy: traffic,
  });
}

async function lockOf(world: World): Promise<{ owner: string | undefined; fencingToken: number; leaseExpiresAtMs: number | undefined }> {
  const table = tableOf(world);
  try {
    const { Item } = await table.documents.send(new GetCommand({ TableName: table.tableName, Key: keys.lock(SERVICE), ConsistentRead: true }));
    return { owner: Item?.['owner'] as string | undefined, fencingToken: Item?.['fencingToken'] as number, leaseExpiresAtMs: Item?.['leaseExpiresAtMs'] as number | undefined };
  } finally {
    table.documents.destroy();
  }
}

/**
 * A's lease runs out. It stands for the passage of time: the lease is at least 60 s
 * (canary.lockLeaseSeconds) and A, dead, renews nothing, so once it has passed the lock item holds
 * exactly this, an expiry in the past. Written only while A still owns the lock.
 */
async function leaseRunsOut(world: World, owner: string): Promise<void> {
  const table = tableOf(world);
  try {
    await table.documents.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.lock(SERVICE),
        UpdateExpression: 'SET leaseExpiresAtMs = :past',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':past': Date.now() - 1000, ':owner': owner },
      }),
    );
  } finally {
    table.documents.destroy();
  }
}

async function actionsOf(world: World, id: string): Promise<string[]> {
  return (await auditOf(world, id)).map((event) => event.action);
}

function doc(world: World, id: string, done: (d: StatusDoc) => boolean, timeoutMs = 60_000): Promise<StatusDoc> {
  return pollUntil(world, id, done, timeoutMs, 200);
}

/** The run is over: its release is recorded. */
async function released(world: World, id: string): Promise<StatusDoc> {
  await waitFor(async () => (await actionsOf(world, id)).includes('deployment.release'), 60_000, `the release of ${id}`);
  return doc(world, id, () => true);
}

describe('split brain: a run killed mid-shift goes on after another deployment took its service', () => {
  for (const c of CASES) {
    it(`killed at ${c.crashAt}, A resumed by ${c.resumeA === 'replay' ? 'its replayed creation' : 'the sweeper at restart'} with B ${c.b === 'at-gate' ? 'at its gate' : 'finished'} (${c.store})`, async () => {
      const world = await startWorld(c.store);

      // P1: the service with v1 serving everything, then A, killed while shifting to 50%.
      const p1 = await startCrossfade(world, { CROSSFADE_CRASH_AT: c.crashAt, CROSSFADE_CRASH_LEDGER: world.ledger });
      for (const version of VERSIONS) await register(world, version);
      const aKey = `split-brain-${randomUUID()}`;
      const createdA = await world.call<StatusDoc>('POST', '/v1/deployments', A_BODY, { headers: { 'x-idempotency-key': aKey } });
      expect(createdA.status, JSON.stringify(createdA.body)).toBe(202);
      const a = createdA.body.id;
      expect(await p1.exited).toBeNull();
      expect(p1.child.signalCode).toBe('SIGKILL');
      expect(readFileSync(world.ledger, 'utf8')).toBe(`${c.crashAt} ${c.crashAt}\n`);

      // P2: resumes nothing at start, so B can take the service before A goes on.
      await startCrossfade(world, { CROSSFADE_RESUME_AT_START: '0' });
      const aLock = await lockOf(world);
      expect(aLock.owner).toBe(a);
      // As A died: its step 0 (10%) served everywhere, its 50% at most in the registry.
      const atKill = await servedTraffic(world);
      expect(atKill.registry).toEqual(Object.fromEntries(GROUPS.map((g) => [g, { weights: c.splitAtKill, fencingToken: aLock.fencingToken }])));
      expect([atKill.haproxy, atKill.envoy]).toEqual([{ v1: 90, v2: 10, v3: 0 }, { v1: 90, v2: 10, v3: 0 }]);
      expect(await doc(world, a, () => true)).toMatchObject({ status: 'RUNNING', step: { index: 2 } });

      // While A's lease lasts, B is refused, naming A.
      const early = await world.call<{ error: { code: string; holder?: string } }>('POST', '/v1/deployments', B_BODY);
      expect(early.status).toBe(409);
      expect(JSON.stringify(early.body)).toContain(a);

      await leaseRunsOut(world, a);
      const createdB = await world.call<StatusDoc>('POST', '/v1/deployments', B_BODY);
      expect(createdB.status, JSON.stringify(createdB.body)).toBe(202);
      const b = createdB.body.id;
      await waitFor(async () => (await actionsOf(world, b)).includes('deployment.hold'), 60_000, 'B at its gate');
      const bAtGate = await doc(world, b, () => true);
      expect(bAtGate).toMatchObject({ status: 'RUNNING', phase: 'PAUSED', step: { index: 1 }, weights: { aws: { v1: 90, v3: 10 } } });
      const bLock = await lockOf(world);
      expect(bLock).toMatchObject({ owner: b, fencingToken: aLock.fencingToken + 1 });
      const bTraffic = complete(bAtGate.weights['aws']);
      expectServed(await servedTraffic(world), bTraffic, bLock.fencingToken);

      let finalTraffic = bTraffic;
      if (c.b === 'finished') {
        expect((await world.call('POST', `/v1/deployments/${b}/promote`, {})).status).toBe(200);
        const bDone = await released(world, b);
        expect(bDone).toMatchObject({ status: 'SUCCEEDED', weights: { aws: { v1: 0, v3: 100 } } });
        finalTraffic = complete(bDone.weights['aws']);
        expect((await lockOf(world)).owner).toBeUndefined();
      }

      // A goes on.
      if (c.resumeA === 'replay') {
        const replayed = await world.call<StatusDoc>('POST', '/v1/deployments', A_BODY, { headers: { 'x-idempotency-key': aKey } });
        expect(replayed.status, JSON.stringify(replayed.body)).toBe(202);
        expect(replayed.body.id).toBe(a);
      } else {
        expect(await stopLocalProcess(world.process!)).toBe(0);
        const p3 = await startCrossfade(world);
        const resumedRuns = c.b === 'at-gate' ? 2 : 1;
        expect(p3.output()).toContain(`resumed: ${resumedRuns} unfinished run${resumedRuns === 1 ? '' : 's'} from their stored state`);
      }
      const aDone = await released(world, a);
      expect(aDone).toMatchObject({ status: 'TERMINAL', phase: 'FAILED', result: { outcome: 'rolled back' } });
      const lostBecause = c.b === 'at-gate' ? `service ${SERVICE} is locked by ${b}` : 'the lock changed hands since this run prepared';
      expect(aDone.result!.reason).toContain(`deployment ${a} lost service ${SERVICE}: ${lostBecause}`);
      // A's status reports what is served (B's split), not what A last asked for.
      expect(complete(aDone.weights['aws'])).toEqual(finalTraffic);
      expectAuditSaysLockLost(await auditOf(world, a), lostBecause);

      // A moved nothing: every part still serves B's split, written under B's token.
      expectServed(await servedTraffic(world), finalTraffic, bLock.fencingToken);
      const afterA = await lockOf(world);
      if (c.b === 'at-gate') {
        expect(afterA).toMatchObject({ owner: b, fencingToken: bLock.fencingToken });
        // B then ends as its plan says.
        if (c.resumeA === 'sweeper') await waitFor(async () => (await actionsOf(world, b)).filter((x) => x === 'deployment.hold').length === 2, 60_000, 'B at its gate again');
        expect((await world.call('POST', `/v1/deployments/${b}/promote`, {})).status).toBe(200);
        const bDone = await released(world, b);
        expect(bDone).toMatchObject({ status: 'SUCCEEDED', weights: { aws: { v1: 0, v3: 100 } } });
        expectServed(await servedTraffic(world), complete(bDone.weights['aws']), bLock.fencingToken);
      } else {
        // A took the free lock again (a larger token each time), saw it had changed hands, and gave it back.
        expect(afterA.owner).toBeUndefined();
        expect(afterA.fencingToken).toBeGreaterThan(bLock.fencingToken);
        expect(aDone.result!.reason).toContain(`(fencing token ${aLock.fencingToken}, now ${afterA.fencingToken})`);
      }
      expect((await lockOf(world)).owner).toBeUndefined();
      expect(await stopLocalProcess(world.process!)).toBe(0);
    }, 240_000);
  }
});

/** A's audit trail says why it ended: the caught LockLostError, and the end that names it; no step after the crash. */
function expectAuditSaysLockLost(events: AuditItem[], lostBecause: string): void {
  const recover = events.find((e) => e.action === 'deployment.recover');
  expect(recover?.details.error?.Error).toBe('LockLostError');
  expect(recover?.reason).toMatch(/^LockLostError: .*lost service/);
  expect(recover?.reason).not.toContain('rolled back');
  const end = events.find((e) => e.action === 'deployment.rollback');
  expect(end).toMatchObject({ details: { phase: 'FAILED' } });
  expect(end?.reason).toContain(lostBecause);
  expect(events.filter((e) => e.action === 'deployment.shift').map((e) => e.details.stepIndex)).toEqual([0]);
  expect(events.at(-1)?.action).toBe('deployment.release');
}
