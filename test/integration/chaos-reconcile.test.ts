/**
 * A reconcile run of every service survives its process being killed (SIGKILL, for real): `npm
 * start` walks 12 registered services in shards of 4 (CROSSFADE_RECONCILE_SHARD_SIZE); it dies once
 * after reconciling the second shard and before recording it, and once after recording the last
 * shard and before freeing the one-at-a-time slot. Each time the same command is started again on
 * the same state, and the run goes on from its cursor: on the embedded store at once (the store is
 * the process's alone), on DynamoDB Local once the dead driver's lease has run out. At the end the
 * run is finished with every service seen once, no error, the slot free, and a new request starts a
 * new run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDbReconcileRuns } from '../../shared/adapters/dynamodb/reconcile-runs.js';
import type { ReconcileRun } from '../../shared/domain/reconcile-run.js';
import { ChaosNode, type StoreKind } from '../support/chaos.js';
import { sleep } from '../support/local-process.js';
import { LOOPBACK_CIDRS } from '../support/mesh-builders.js';

const SERVICES = Array.from({ length: 12 }, (_, i) => `shard-svc-${String(i).padStart(2, '0')}`);
const CRASH_AT = ['reconcile:before-record:shard2', 'reconcile:after-record:shard3'];
const RUN_TIMEOUT_MS = 180_000;

const config = {
  clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
  proxyGroups: [],
  mesh: { allowedEndpointCidrs: LOOPBACK_CIDRS },
};

const nodes: ChaosNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

async function runOf(node: ChaosNode, id: string): Promise<ReconcileRun | undefined> {
  return node.read((table) => new DynamoDbReconcileRuns(table).get(id));
}

describe.each<[StoreKind, Record<string, string>]>([
  ['embedded', {}],
  ['dynamodb-local', { CROSSFADE_RECONCILE_LEASE_SECONDS: '2' }],
])('a reconcile run on %s, its process killed twice', (store, env) => {
  it('goes on from its cursor after each death and finishes with every service seen once', async () => {
    const node = await ChaosNode.create({ name: `reconcile-${store}`, store, config, crashAt: CRASH_AT, env: { CROSSFADE_RECONCILE_SHARD_SIZE: '4', ...env } });
    nodes.push(node);
    for (const [i, service] of SERVICES.entries()) {
      await node.must('PUT', `/v1/services/${service}/versions/v1`, { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `127.0.0.${i + 1}`, port: 8080 }] }] }, 201);
    }

    // The 202 may or may not get out before the first death: the run is then found in the store.
    const answer = await node.call<{ id: string; statusUrl: string; started: boolean }>('POST', '/v1/reconcile', { reason: 'chaos' });
    if (answer) {
      expect(answer.status).toBe(202);
      expect(answer.body.started).toBe(true);
    }
    const id = answer?.body.id ?? (await node.read((table) => new DynamoDbReconcileRuns(table).active()))!;
    expect(id).toMatch(/^rec_[0-9a-z]{26}$/);

    const deadline = Date.now() + RUN_TIMEOUT_MS;
    let run: ReconcileRun | undefined;
    let slot: string | undefined = id;
    while (Date.now() < deadline) {
      run = await runOf(node, id);
      slot = await node.read((table) => new DynamoDbReconcileRuns(table).active());
      if (run?.status === 'finished' && slot === undefined && node.fired().length === CRASH_AT.length) break;
      await sleep(200);
    }

    expect(node.fired().map((f) => f.point)).toEqual(CRASH_AT);
    expect(run).toMatchObject({ status: 'finished', cursor: SERVICES.at(-1), shardsDone: 3, servicesSeen: SERVICES.length, errors: 0, failures: [], requestedBy: { actor: 'local-admin', reason: 'chaos' }, lease: null });
    expect(slot).toBeUndefined();
    const status = await node.must<ReconcileRun & { statusUrl: string }>('GET', `/v1/reconcile/runs/${id}`, undefined, 200);
    expect(status).toMatchObject({ id, status: 'finished', servicesSeen: SERVICES.length });
    const next = await node.must<{ id: string; started: boolean }>('POST', '/v1/reconcile', {}, 202);
    expect(next.started).toBe(true);
    expect(next.id).not.toBe(id);
  }, RUN_TIMEOUT_MS + 60_000);
});
