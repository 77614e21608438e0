/**
 * Preflight before traffic moves, through the HTTP API of the local stack on DynamoDB Local with a
 * real Prometheus as the metrics provider: a deployment whose analysis the provider refuses
 * (invalid PromQL), whose query names an unknown placeholder, whose provider cannot be reached, or
 * whose canary already serves 100% is refused — 4xx (503 for the unreachable provider, which
 * Spinnaker retries) naming the field and the rule — and nothing is written.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTableHandle, type TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { startLocalStack, type LocalStack } from '../../local/stack.js';
import { freePort } from '../support/ports.js';
import { startPrometheus, type PrometheusInstance } from '../support/prometheus.js';
import { scanTable } from '../support/store-backends.js';

const ADMIN = 'cf_preflight_admin_token_0123456789';
const GOOD_QUERY = 'sum(rate(http_requests_total{service="{{service}}",version="{{version}}"}[30s]))';

let prometheus: PrometheusInstance;
let stack: LocalStack;
let table: TableHandle;

beforeAll(async () => {
  prometheus = await startPrometheus();
  const closedPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-preflight-'));
  const config = {
    clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
    proxyGroups: [{ name: 'edge', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [] }],
    analysis: {
      providers: [
        { name: 'prom', kind: 'prometheus', url: prometheus.url },
        // Nothing listens there.
        { name: 'down', kind: 'prometheus', url: `http://127.0.0.1:${closedPort}` },
      ],
      templates: [
        { name: 'golden', metrics: [{ name: 'request-rate', provider: 'prom', query: GOOD_QUERY }] },
        { name: 'golden-down', metrics: [{ name: 'request-rate', provider: 'down', query: GOOD_QUERY }] },
      ],
    },
  };
  writeFileSync(join(dir, 'crossfade.json'), JSON.stringify(config));
  const endpoint = inject('dynamoDbLocalEndpoint');
  const tableName = `preflight-${randomUUID()}`;
  const env = { CROSSFADE_CONFIG: join(dir, 'crossfade.json'), CROSSFADE_DYNAMODB_ENDPOINT: endpoint, CROSSFADE_TABLE: tableName, CROSSFADE_ADMIN_TOKEN: ADMIN, AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fakesecretfakesecret', AWS_REGION: 'us-east-1' };
  stack = await startLocalStack({ env, dataDir: dir, port: await freePort(), sweepEveryMs: 0, reconcileEveryMs: 0 });
  table = createTableHandle({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fakesecretfakesecret' } }, tableName);
  for (const [index, version] of ['v1', 'v2'].entries()) {
    const answer = await call('PUT', `/v1/services/checkout/versions/${version}`, { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints: [{ address: `10.1.0.${index + 1}`, port: 8080 }] }] });
    expect([200, 201]).toContain(answer.status);
  }
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await prometheus?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: { error?: Record<string, unknown> } & Record<string, unknown> }> {
  const response = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as { error?: Record<string, unknown> } };
}

function create(analysis: Record<string, unknown>, canary = 'v2') {
  return { service: 'checkout', baseline: { version: 'v1' }, canary: { version: canary }, steps: [{ setWeight: 10 }, { analysis: { interval: '1m', count: 1, ...analysis } }, { setWeight: 100 }] };
}

async function refusedWritingNothing(body: unknown): Promise<{ status: number; error: Record<string, unknown> }> {
  const before = await scanTable(table);
  const answer = await call('POST', '/v1/deployments', body);
  expect(await scanTable(table)).toEqual(before);
  return { status: answer.status, error: answer.body.error! };
}

describe('POST /v1/deployments: the analysis is checked before anything is written', () => {
  it('invalid PromQL in an inline metric: 400 naming the metric’s query, the provider’s reason, nothing written', async () => {
    const { status, error } = await refusedWritingNothing(create({ metrics: [{ name: 'error-rate', provider: 'prom', query: 'sum(rate(http_requests_total{version="{{version}}"}[30s]' }] }));
    expect(status).toBe(400);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'steps[1].analysis.metrics[0].query', rule: 'provider-accepts-query' });
    expect(String(error['message'])).toContain('error-rate');
  });

  it('a placeholder typo ({{ver}}): 400 naming the query and the placeholders there are, nothing written', async () => {
    const { status, error } = await refusedWritingNothing(create({ metrics: [{ name: 'error-rate', provider: 'prom', query: 'sum(rate(http_requests_total{version="{{ver}}"}[30s]))' }] }));
    expect(status).toBe(400);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'steps[1].analysis.metrics[0].query', rule: 'known-placeholders' });
    expect(String(error['message'])).toContain('{{ver}}');
  });

  it('a provider that cannot be reached: 503 naming it (Spinnaker retries a 503), nothing written', async () => {
    const { status, error } = await refusedWritingNothing(create({ template: 'golden-down' }));
    expect(status).toBe(503);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(String(error['message'])).toContain('down');
  });

  it('a canary that already serves 100% everywhere: 400, nothing written', async () => {
    // No baseline named: the version serving now would be the baseline, and it is the canary itself.
    const { baseline: _none, ...body } = create({ template: 'golden' }, 'v1');
    const { status, error } = await refusedWritingNothing(body);
    expect(status).toBe(400);
    expect(error).toMatchObject({ field: 'canary.version', rule: 'not-serving-everything' });
  });

  it('a plan whose queries the provider accepts is created (202)', async () => {
    const answer = await call('POST', '/v1/deployments', create({ template: 'golden' }));
    expect(answer.status).toBe(202);
    await call('POST', `/v1/deployments/${String(answer.body['id'])}/cancel`, { reason: 'test over' });
  });
});
