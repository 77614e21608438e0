/**
 * Mesh registration over HTTP (docs/api.md "Mesh registration"), run through the Lambda bundles,
 * functions-framework and the local server on DynamoDB Local: the same answers everywhere, and bad
 * input refused with nothing written. Endpoints are given explicitly here; discovery through EKS,
 * GKE and Kubernetes is specified in cluster-discovery.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbReconcileRuns } from '../../shared/adapters/dynamodb/reconcile-runs.js';
import type { ReconcileRun } from '../../shared/domain/reconcile-run.js';
import { apiTableOnDynamoDbLocal, bearer, targetFactories, tokens, type Answer, type ApiEnvironment, type HttpTarget, type Sent } from '../support/http-targets.js';
import { scanTable } from '../support/store-backends.js';

let api: ApiEnvironment;
let table: TableHandle;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('services');
  table = api.table;
});

afterAll(async () => {
  await api.stop();
});

const awsTarget = (endpoints: unknown[]) => ({ cloud: 'aws', cluster: 'eks-use1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints });
const gcpTarget = (endpoints: unknown[]) => ({ cloud: 'gcp', cluster: 'gke-usc1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints });

function put(service: string, version: string, body: unknown, token: string = tokens.admin): Sent {
  return { method: 'PUT', path: `/v1/services/${service}/versions/${version}`, headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

async function sendWritingNothing(target: HttpTarget, request: Sent): Promise<Answer> {
  const before = await scanTable(table);
  const answer = await target.send(request);
  expect(await scanTable(table)).toEqual(before);
  return answer;
}

/** Each address class registration refuses (domain/endpoint-address.ts), in the first endpoint of the second cluster. */
function refusedAddresses(): { name: string; request: () => Sent; status: number; error: Record<string, unknown> }[] {
  const cases = [
    ['127.0.0.1', 'loopback', '127.0.0.0/8'],
    ['::1', 'loopback', '::1/128'],
    ['169.254.10.1', 'link-local', '169.254.0.0/16'],
    ['fe80::1', 'link-local', 'fe80::/10'],
    ['0.0.0.0', 'unspecified', '0.0.0.0/8'],
    ['::', 'unspecified', '::/128'],
    ['224.0.0.251', 'multicast', '224.0.0.0/4'],
    ['ff02::1', 'multicast', 'ff00::/8'],
    ['169.254.169.254', 'cloud-metadata', '169.254.169.254/32'],
    ['fd00:ec2::254', 'cloud-metadata', 'fd00:ec2::254/128'],
  ] as const;
  return cases.map(([address, kind, range]) => ({
    name: `a ${kind} endpoint (${address})`,
    request: () => put('cart', 'v1', { targets: [awsTarget([{ address: '10.0.0.1', port: 8080 }]), gcpTarget([{ address, port: 8080 }])] }),
    status: 400,
    error: {
      code: 'VALIDATION_FAILED',
      message: `targets[1].endpoints[0].address ${address} is a ${kind} address (${range}): proxies must not route there (crossfade.yaml mesh.allowedEndpointCidrs can allow a range)`,
      field: 'targets[1].endpoints[0].address',
      rule: `no-${kind}`,
    },
  }));
}

describe.each(targetFactories)('mesh registration through %s', (name, factory) => {
  let target: HttpTarget;
  const service = `checkout-${name.replace(/[^a-z]/g, '')}`;
  beforeAll(async () => {
    target = await factory();
  });
  afterAll(async () => {
    await target.stop();
  });

  it('registers a version from both clouds; it serves everything, being the first', async () => {
    const created = await target.send(put(service, 'v41', { targets: [awsTarget([{ address: '10.0.1.10', port: 8080, zone: 'us-east-1a' }]), gcpTarget([{ address: '10.8.0.7', port: 8080 }])] }));
    expect(created.status).toBe(201);
    // Every group's published snapshot routes it at once; their nodes take it at their next poll.
    expect(created.body).toMatchObject({ service, version: 'v41', revision: 1, outcome: 'created', proxies: { 'envoy-aws-use1': 'programmed', 'envoy-gcp-usc1': 'programmed' } });
    const again = await sendWritingNothing(target, put(service, 'v41', { targets: [gcpTarget([{ address: '10.8.0.7', port: 8080 }]), awsTarget([{ address: '10.0.1.10', port: 8080, zone: 'us-east-1a' }])] }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'unchanged', revision: 1 });

    const described = await target.send({ method: 'GET', path: `/v1/services/${service}`, headers: bearer(tokens.reader) });
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({
      service,
      versions: [{ version: 'v41', clusters: [{ cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address: '10.0.1.10', port: 8080, zone: 'us-east-1a' }] }, { cluster: 'gke-usc1', region: 'us-central1', endpoints: [{ address: '10.8.0.7', port: 8080, zone: null }] }] }],
      weights: { 'envoy-aws-use1': { v41: 100 }, 'envoy-gcp-usc1': { v41: 100 } },
      proxies: { 'envoy-aws-use1': [{ proxy: 'envoy-aws-1', acknowledgedVersion: null }], 'envoy-gcp-usc1': [{ proxy: 'envoy-gcp-1', acknowledgedVersion: null }] },
      verification: {
        'envoy-aws-use1': { state: 'pending', lagging: [{ proxy: 'envoy-aws-1', reason: 'has never polled' }] },
        'envoy-gcp-usc1': { state: 'pending', lagging: [{ proxy: 'envoy-gcp-1', reason: 'has never polled' }] },
      },
    });
    expect(described.body).not.toHaveProperty('isolated');
  });

  it('a new version enters every proxy group at 0%, and can be deregistered; the serving one cannot (409)', async () => {
    expect((await target.send(put(service, 'v42', { targets: [awsTarget([{ address: '10.0.1.20', port: 8080 }])] }))).status).toBe(201);
    const described = await target.send({ method: 'GET', path: `/v1/services/${service}`, headers: bearer(tokens.admin) });
    expect((described.body as { weights: unknown }).weights).toEqual({ 'envoy-aws-use1': { v41: 100, v42: 0 }, 'envoy-gcp-usc1': { v41: 100, v42: 0 } });

    const refused = await sendWritingNothing(target, { method: 'DELETE', path: `/v1/services/${service}/versions/v41`, headers: bearer(tokens.admin) });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: { code: 'CONFLICT', message: `${service}@v41 carries 100% of traffic in proxy group envoy-aws-use1: shift it away first`, holder: 'envoy-aws-use1' },
    });

    const deleted = await target.send({ method: 'DELETE', path: `/v1/services/${service}/versions/v42`, headers: bearer(tokens.admin) });
    expect(deleted.status).toBe(200);
    const programmed = { 'envoy-aws-use1': 'programmed', 'envoy-gcp-usc1': 'programmed' };
    expect(deleted.body).toEqual({ service, version: 'v42', outcome: 'deregistered', proxies: programmed });
    const again = await sendWritingNothing(target, { method: 'DELETE', path: `/v1/services/${service}/versions/v42`, headers: bearer(tokens.admin) });
    expect(again.body).toEqual({ service, version: 'v42', outcome: 'not-registered', proxies: programmed });
  });

  it('declares the services one calls: 201, then 200 unchanged writing nothing, read back; bad lists and other scopes refused writing nothing', async () => {
    const path = `/v1/services/${service}/dependencies`;
    const declare = (body: unknown, token: string = tokens.checkoutDeployer): Sent => ({ method: 'PUT', path, headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refusals: [unknown, string, string][] = [
      [{ dependencies: [service] }, 'dependencies[0]', 'not-self'],
      [{ dependencies: ['payments', 'payments'] }, 'dependencies[1]', 'unique'],
      [{ dependencies: ['payments', 'Auth'] }, 'dependencies[1]', 'service-name'],
      [{ dependencies: Array.from({ length: 201 }, (_, i) => `s${i}`) }, 'dependencies', 'max-dependencies'],
      [{ dependencies: 'payments' }, 'dependencies', 'type'],
      [{ dependencies: ['payments'], extra: true }, 'extra', 'no-unknown-fields'],
    ];
    for (const [body, field, rule] of refusals) {
      const refused = await sendWritingNothing(target, declare(body));
      expect(refused.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(refused.body, JSON.stringify(body).slice(0, 80)).toMatchObject({ error: { code: 'VALIDATION_FAILED', field, rule } });
    }
    expect((await sendWritingNothing(target, declare({ dependencies: ['payments'] }, tokens.paymentsDeployer))).status).toBe(403);
    expect((await target.send({ method: 'GET', path, headers: bearer(tokens.reader) })).status).toBe(404);

    const created = await target.send(declare({ dependencies: ['payments', 'auth'], reason: 'calls payments now' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ service, dependencies: ['auth', 'payments'], revision: 1, updatedBy: 'checkout-pipeline', outcome: 'created', sidecarGroups: {} });
    const again = await sendWritingNothing(target, declare({ dependencies: ['auth', 'payments'] }));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ dependencies: ['auth', 'payments'], revision: 1, outcome: 'unchanged' });
    const read = await target.send({ method: 'GET', path, headers: bearer(tokens.reader) });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ service, dependencies: ['auth', 'payments'], revision: 1, updatedAt: (created.body as { updatedAt: string }).updatedAt, updatedBy: 'checkout-pipeline' });
    expect((await target.send(declare({ dependencies: [] }))).body).toMatchObject({ dependencies: [], revision: 2, outcome: 'updated' });
  });

  it("every change says why: the reason of a registration and a deregistration is in the service's timeline, with who", async () => {
    const body = { targets: [awsTarget([{ address: '10.0.1.30', port: 8080 }])], reason: 'release 43: Déploiement' };
    expect((await target.send(put(service, 'v43', body))).status).toBe(201);
    const gone = await target.send({ method: 'DELETE', path: `/v1/services/${service}/versions/v43`, headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'release 43 withdrawn' }) });
    expect(gone.status).toBe(200);

    const timeline = await target.send({ method: 'GET', path: `/v1/services/${service}/events`, headers: bearer(tokens.reader) });
    expect(timeline.status).toBe(200);
    const items = (timeline.body as { items: { action: string; actor: string; reason: string | null; details: { version: string } }[] }).items;
    const ofV43 = items.filter((event) => event.details.version === 'v43').map(({ action, actor, reason }) => ({ action, actor, reason }));
    expect(ofV43).toEqual([
      { action: 'service.version-registered', actor: 'admin', reason: 'release 43: Déploiement' },
      { action: 'service.version-deregistered', actor: 'admin', reason: 'release 43 withdrawn' },
    ]);

    const emptyReason = await sendWritingNothing(target, { method: 'DELETE', path: `/v1/services/${service}/versions/v41`, headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: JSON.stringify({ reason: '' }) });
    expect(emptyReason.status).toBe(400);
    expect(emptyReason.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'reason' } });
    const outsideScope = await target.send({ method: 'GET', path: `/v1/services/${service}/events`, headers: bearer(tokens.paymentsDeployer) });
    expect(outsideScope.status).toBe(403);
  });

  const badInput: { name: string; request: () => Sent; status: number; error: Record<string, unknown> }[] = [
    {
      name: 'an endpoint address that is not an IP',
      request: () => put('cart', 'v1', { targets: [awsTarget([{ address: 'cart.internal', port: 8080 }])] }),
      status: 400,
      error: { code: 'VALIDATION_FAILED', message: 'targets[0].endpoints[0].address "cart.internal" must be an IPv4 or IPv6 address', field: 'targets[0].endpoints[0].address', rule: 'ip-address' },
    },
    {
      name: 'port 0',
      request: () => put('cart', 'v1', { targets: [awsTarget([{ address: '10.0.0.1', port: 0 }])] }),
      status: 400,
      error: { code: 'VALIDATION_FAILED', message: 'targets[0].endpoints[0].port must be from 1 to 65535', field: 'targets[0].endpoints[0].port', rule: 'too_small' },
    },
    {
      name: 'port 65536',
      request: () => put('cart', 'v1', { targets: [awsTarget([{ address: '10.0.0.1', port: 65536 }])] }),
      status: 400,
      error: { code: 'VALIDATION_FAILED', message: 'targets[0].endpoints[0].port must be from 1 to 65535', field: 'targets[0].endpoints[0].port', rule: 'too_big' },
    },
    ...refusedAddresses(),
    {
      name: 'one endpoint in both clusters (every snapshot would fail its consistency check)',
      request: () => put('cart', 'v9', { targets: [awsTarget([{ address: '10.60.0.9', port: 8080 }]), gcpTarget([{ address: '10.60.0.9', port: 8080 }])] }),
      status: 400,
      error: {
        code: 'VALIDATION_FAILED',
        message: "targets[1].endpoints[0] 10.60.0.9:8080 is the same endpoint as targets[0].endpoints[0]: an endpoint appears once among a version's endpoints, across all its clusters",
        field: 'targets[1].endpoints[0]',
        rule: 'endpoint-unique',
      },
    },
    {
      name: 'one endpoint twice in a cluster',
      request: () => put('cart', 'v9', { targets: [awsTarget([{ address: '10.60.0.9', port: 8080 }, { address: '10.60.0.9', port: 8080 }])] }),
      status: 400,
      error: {
        code: 'VALIDATION_FAILED',
        message: "targets[0].endpoints[1] 10.60.0.9:8080 is the same endpoint as targets[0].endpoints[0]: an endpoint appears once among a version's endpoints, across all its clusters",
        field: 'targets[0].endpoints[1]',
        rule: 'endpoint-unique',
      },
    },
    {
      name: 'an unknown cluster',
      request: () => put('cart', 'v1', { targets: [{ ...awsTarget([]), cluster: 'eks-euw1' }] }),
      status: 400,
      error: { code: 'VALIDATION_FAILED', message: 'targets[0].cluster "eks-euw1" is not a configured cluster (eks-use1, gke-usc1)', field: 'targets[0].cluster', rule: 'known-cluster' },
    },
    {
      name: 'an unknown cloud',
      request: () => put('cart', 'v1', { targets: [{ ...awsTarget([]), cloud: 'azure' }] }),
      status: 400,
      error: { code: 'VALIDATION_FAILED', message: 'targets[0].cloud must be one of "aws", "gcp"', field: 'targets[0].cloud', rule: 'enum' },
    },
    {
      name: 'a service name that would break an HAProxy or Envoy name',
      request: () => put('cart%2Fx', 'v1', { targets: [awsTarget([{ address: '10.0.0.1', port: 8080 }])] }),
      status: 400,
      error: {
        code: 'VALIDATION_FAILED',
        message: 'service must be a DNS-1123 label: 1-63 lower-case letters, digits or "-", starting with a letter and not ending with "-"',
        field: 'service',
        rule: 'service-name',
      },
    },
    {
      name: 'a version name with spaces',
      request: () => put('cart', 'v%201', { targets: [awsTarget([{ address: '10.0.0.1', port: 8080 }])] }),
      status: 400,
      error: { code: 'VALIDATION_FAILED', message: 'version must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit', field: 'version', rule: 'version-name' },
    },
    {
      name: 'no targets',
      request: () => put('cart', 'v1', { targets: [] }),
      status: 400,
      error: { code: 'VALIDATION_FAILED', message: 'targets must name at least one cluster', field: 'targets', rule: 'too_small' },
    },
    {
      name: 'a token outside its scope',
      request: () => put('cart', 'v1', { targets: [awsTarget([{ address: '10.0.0.1', port: 8080 }])] }, tokens.checkoutDeployer),
      status: 403,
      error: { code: 'FORBIDDEN', message: 'token checkout-pipeline may not deploy service cart (needs scope deploy:cart or admin)', rule: 'scope' },
    },
  ];

  it.each(badInput)('refuses $name ($status), writing nothing', async ({ request, status, error }) => {
    const answer = await sendWritingNothing(target, request());
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.body).toEqual({ error });
  });

  it('reconciles one service on request, reporting the Envoy nodes that never polled', async () => {
    const answer = await target.send({ method: 'POST', path: '/v1/reconcile', headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: JSON.stringify({ service }) });
    expect(answer.status).toBe(200);
    const report = answer.body as { services: unknown[]; envoyGroups: { proxyGroup: string; findings: { kind: string; proxy?: string }[]; actions: unknown[] }[]; summary: unknown };
    expect(report.services).toEqual([{ service, findings: [], actions: [] }]);
    expect(report.summary).toMatchObject({ services: 1, failed: 0, isolated: 0, unverifiedGroups: 0 });
    // Registration published every group's snapshot already: nothing to publish, nodes never polled.
    expect(report.envoyGroups.map((g) => [g.proxyGroup, g.actions, g.findings.map((f) => [f.kind, f.proxy])])).toEqual([
      ['envoy-aws-use1', [], [['proxy-lagging', 'envoy-aws-1']]],
      ['envoy-gcp-usc1', [], [['proxy-lagging', 'envoy-gcp-1']]],
    ]);
    const narrow = await target.send({ method: 'POST', path: '/v1/reconcile', headers: bearer(tokens.checkoutDeployer), body: '{}' });
    expect(narrow.status).toBe(403);
    const bad = await sendWritingNothing(target, { method: 'POST', path: '/v1/reconcile', headers: bearer(tokens.admin), body: '{"service":"Bad_Name"}' });
    expect(bad.status).toBe(400);
  });

  it('answers a reconciliation of every service 202 with the run’s status URL, one run at a time, and refuses bad input writing nothing', async () => {
    const post = (body: string, token: string = tokens.admin): Sent => ({ method: 'POST', path: '/v1/reconcile', headers: { ...bearer(token), 'content-type': 'application/json' }, body });
    const first = await target.send(post('{"reason":"after the incident"}'));
    expect(first.status).toBe(202);
    const run = first.body as ReconcileRun & { statusUrl: string; started: boolean };
    expect(run).toMatchObject({ started: true, status: 'running', cursor: null, shardsDone: 0, requestedBy: { actor: 'admin', reason: 'after the incident' } });
    expect(run.id).toMatch(/^rec_[0-9a-z]{26}$/);
    expect(run.statusUrl).toMatch(new RegExp(`/v1/reconcile/runs/${run.id}$`));
    expect(first.headers['location']).toBe(run.statusUrl);
    const statusOf = async () => (await target.send({ method: 'GET', path: new URL(run.statusUrl).pathname, headers: bearer(tokens.reader) })).body as ReconcileRun;

    if (target.name === 'local') {
      // The local stack drives the run in-process, shard by shard, to its end.
      let status = await statusOf();
      for (let polls = 0; status.status !== 'finished' && polls < 300; polls++) status = await new Promise((r) => setTimeout(r, 100)).then(statusOf);
      expect(status).toMatchObject({ id: run.id, status: 'finished', shardsDone: 1, errors: 0, lease: null });
      expect(status.servicesSeen).toBeGreaterThan(0);
    } else {
      // Here nothing drives it (no schedule, no continuation): a second request joins it, writing nothing.
      const second = await sendWritingNothing(target, post('{}'));
      expect(second.status).toBe(202);
      expect(second.body).toMatchObject({ id: run.id, started: false });
      expect(await statusOf()).toMatchObject({ id: run.id, status: 'running', shardsDone: 0, servicesSeen: 0, statusUrl: run.statusUrl });
    }

    const malformed = await sendWritingNothing(target, { method: 'GET', path: '/v1/reconcile/runs/dep_123', headers: bearer(tokens.reader) });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'runId', rule: 'reconcile-run-id' } });
    const unknown = await target.send({ method: 'GET', path: `/v1/reconcile/runs/rec_${'0'.repeat(26)}`, headers: bearer(tokens.reader) });
    expect(unknown.status).toBe(404);
    const extra = await sendWritingNothing(target, post('{"shards":4}'));
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.body)).toContain('shards');
    expect((await sendWritingNothing(target, { method: 'GET', path: new URL(run.statusUrl).pathname, headers: bearer(tokens.checkoutDeployer) })).status).toBe(403);

    // The next target's local stack would resume a run left running on this shared table: finish it as a driver would.
    const runs = new DynamoDbReconcileRuns(table);
    const left = (await runs.get(run.id))!;
    if (left.status === 'running') await runs.update({ ...left, status: 'finished', finishedAt: left.startedAt, revision: left.revision + 1 });
    await runs.releaseActive(run.id);
  });

  it('serves Envoy REST discovery on every platform, refusing a node without its token', async () => {
    const request = { node: { id: 'envoy-aws-1', cluster: 'envoy-aws-use1' }, type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', version_info: '', resource_names: [] };
    const answer = await sendWritingNothing(target, { method: 'POST', path: '/v3/discovery:clusters', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('404s a service with nothing registered', async () => {
    const answer = await target.send({ method: 'GET', path: '/v1/services/nothing-here', headers: bearer(tokens.reader) });
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ error: { code: 'NOT_FOUND', message: 'service nothing-here has no registered version' } });
  });
});
