/**
 * Direct invocation on AWS (docs/direct-invocation.md): the CLI's Lambda transport, with the real
 * @aws-sdk/client-lambda, invokes the real handlers of functions/*.ts through a fake Lambda Invoke
 * API on loopback; each function verifies the caller's presigned sts:GetCallerIdentity against a
 * fake STS that checks SigV4 signatures for real, and maps the ARN through iamPrincipals. The
 * table is DynamoDB Local; runs are started on the fake Step Functions and never run.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignCallerIdentity } from '../../shared/adapters/identity/sts-presign.js';
import { DependencyUnavailableError } from '../../shared/domain/errors.js';
import { createLambdaTransport } from '../../cli/transport/lambda.js';
import type { Transport } from '../../cli/transport/transport.js';
import { handler as deployments } from '../../functions/deployments.js';
import { handler as health } from '../../functions/health.js';
import { handler as reconcile } from '../../functions/reconcile.js';
import { handler as services } from '../../functions/services.js';
import { rejectionOf } from '../support/errors.js';
import { startFakeLambda, type FakeLambda, type InvokedHandler } from '../support/fake-clouds/lambda.js';
import { startFakeSts, type FakeSts } from '../support/fake-clouds/sts-caller-identity.js';
import { apiTableOnDynamoDbLocal, registrationBody, tokens, uniqueService, type ApiEnvironment } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';
import { scanTable } from '../support/store-backends.js';

const AUDIENCE = 'crossfade-test';
const PREFIX = 'crossfade-test';
const ROLE = 'arn:aws:iam::111122223333:role/ci/spinnaker-deployer';
const SESSION = 'arn:aws:sts::111122223333:assumed-role/spinnaker-deployer/pipeline-42';
const deployer = { accessKeyId: 'AKIADEPLOYER000001', secretAccessKey: 'deployer-secret-key-0000000000000000000001', arn: SESSION };
const stranger = { accessKeyId: 'AKIASTRANGER000002', secretAccessKey: 'stranger-secret-key-0000000000000000000002', arn: 'arn:aws:sts::111122223333:assumed-role/someone-else/laptop' };
const admin = { accessKeyId: 'AKIAROGUEADMIN0003', secretAccessKey: 'rogue-secret-key-00000000000000000000000003', arn: 'arn:aws:iam::111122223333:user/ops/admin' };

let api: ApiEnvironment;
let sts: FakeSts;
let rogue: FakeSts;
let lambda: FakeLambda;

beforeAll(async () => {
  sts = await startFakeSts();
  rogue = await startFakeSts();
  for (const identity of [deployer, stranger, admin]) sts.addIdentity(identity);
  // A server a caller controls answers whatever ARN it likes: here, the admin's.
  rogue.addIdentity({ ...stranger, arn: admin.arn });
  api = await apiTableOnDynamoDbLocal('direct', [], {
    identity: { aws: { audience: AUDIENCE, stsEndpoints: [sts.endpoint] } },
    iamPrincipals: [
      { arn: ROLE, scopes: ['deploy:checkout*'] },
      { arn: admin.arn, scopes: ['admin'] },
    ],
  });
  lambda = await startFakeLambda();
  const functions: Record<string, InvokedHandler> = { deployments, health, reconcile, services } as unknown as Record<string, InvokedHandler>;
  for (const [name, handler] of Object.entries(functions)) lambda.addFunction(`${PREFIX}-${name}`, handler);
});

afterAll(async () => {
  await Promise.all([api.stop(), sts.stop(), rogue.stop(), lambda.stop()]);
});

function transportAs(identity: { accessKeyId: string; secretAccessKey: string }, options: { audience?: string; stsEndpoint?: string } = {}): Transport {
  return createLambdaTransport({
    functionPrefix: PREFIX,
    region: 'us-east-1',
    audience: options.audience ?? AUDIENCE,
    lambdaEndpoint: lambda.endpoint,
    stsEndpoint: options.stsEndpoint ?? sts.endpoint,
    credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey },
  });
}

/** A raw invocation, for events the transport would never send. */
async function invoke(functionName: string, event: unknown): Promise<{ statusCode: number; headers: Record<string, string>; body: { error?: Record<string, unknown> } & Record<string, unknown> }> {
  const client = new LambdaClient({ region: 'us-east-1', endpoint: lambda.endpoint, credentials: { accessKeyId: deployer.accessKeyId, secretAccessKey: deployer.secretAccessKey } });
  const out = await client.send(new InvokeCommand({ FunctionName: `${PREFIX}-${functionName}`, Payload: Buffer.from(JSON.stringify(event)) }));
  client.destroy();
  expect(out.FunctionError).toBeUndefined();
  return JSON.parse(Buffer.from(out.Payload!).toString('utf8'));
}

function presign(identity: { accessKeyId: string; secretAccessKey: string }, overrides: { headerName?: string; headerValue?: string; endpoint?: string; signingDate?: Date; expiresInSeconds?: number } = {}): Promise<string> {
  return presignCallerIdentity({
    region: 'us-east-1',
    credentials: identity,
    headerName: overrides.headerName ?? 'x-crossfade-id',
    headerValue: overrides.headerValue ?? AUDIENCE,
    signingDate: overrides.signingDate ?? new Date(),
    expiresInSeconds: overrides.expiresInSeconds ?? 60,
    endpoint: overrides.endpoint ?? sts.endpoint,
  });
}

const listDeployments = (service: string) => ({ crossfade: { method: 'GET', path: '/v1/deployments', query: { service } } });

async function registerVersionsVia(transport: Transport, service: string): Promise<void> {
  for (const [index, version] of ['v41', 'v42'].entries()) {
    const answer = await transport.send({ method: 'PUT', path: `/v1/services/${service}/versions/${version}`, body: registrationBody(service, index) });
    expect(answer.statusCode).toBe(201);
  }
}

describe('a mapped IAM principal, through the Lambda transport', () => {
  it('registers versions, deploys, and reads its deployment back; the audit names the STS session', async () => {
    const transport = transportAs(deployer);
    const service = uniqueService();
    await registerVersionsVia(transport, service);

    const created = await transport.send({ method: 'POST', path: '/v1/deployments', body: deploymentBody({ service, spinnaker: undefined }), headers: { 'x-idempotency-key': `cli-${service}` } });

    expect(created.statusCode).toBe(202);
    const id = (created.body as { id: string }).id;
    const read = await transport.send({ method: 'GET', path: `/v1/deployments/${id}` });
    expect(read).toMatchObject({ statusCode: 200, body: { id, service, status: 'NOT_STARTED' } });
    expect(read.headers['content-type']).toBe('application/json; charset=utf-8');
    const events = await transport.send({ method: 'GET', path: `/v1/deployments/${id}/events` });
    expect(events.body).toMatchObject({ items: [{ action: 'deployment.created', actor: SESSION }] });
    // Each request went to the function serving its route, named as serverless.yml names it.
    expect(lambda.invocations.slice(-5).map((i) => i.functionName)).toEqual([`${PREFIX}-services`, `${PREFIX}-services`, `${PREFIX}-deployments`, `${PREFIX}-deployments`, `${PREFIX}-deployments`]);
    expect(sts.verified.slice(-5)).toEqual(Array(5).fill(SESSION));
    // A replay of the creation with the same key answers the same deployment.
    const again = await transport.send({ method: 'POST', path: '/v1/deployments', body: deploymentBody({ service, spinnaker: undefined }), headers: { 'x-idempotency-key': `cli-${service}` } });
    expect((again.body as { id: string }).id).toBe(id);
  });

  it('outside its scopes is 403 naming the principal, and nothing is written', async () => {
    const before = await scanTable(api.table);

    const answer = await transportAs(deployer).send({ method: 'POST', path: '/v1/deployments', body: deploymentBody({ service: 'payments' }) });

    expect(answer.statusCode).toBe(403);
    expect(answer.body).toEqual({ error: { code: 'FORBIDDEN', message: `IAM principal ${SESSION} may not deploy service payments (needs scope deploy:payments or admin)`, rule: 'scope' } });
    expect(await scanTable(api.table)).toEqual(before);
  });

  it('the public route answers through its own function (health)', async () => {
    const answer = await transportAs(deployer).send({ method: 'GET', path: '/healthz' });
    expect(answer).toMatchObject({ statusCode: 200, body: { status: 'ok' } });
    expect(lambda.invocations.at(-1)?.functionName).toBe(`${PREFIX}-health`);
  });

  it('reconcile, which also takes scheduled events, serves a direct invocation as HTTP', async () => {
    const answer = await transportAs(deployer).send({ method: 'POST', path: '/v1/reconcile', body: { service: uniqueService() } });
    expect(answer.statusCode).toBe(200);
    expect(lambda.invocations.at(-1)?.functionName).toBe(`${PREFIX}-reconcile`);
  });

  it('reconcile answers every service 202 with a run, and a continuation event drives the run, a shard at least, whatever time is left', async () => {
    const started = await transportAs(admin).send({ method: 'POST', path: '/v1/reconcile', body: {} });
    expect(started.statusCode).toBe(202);
    const run = started.body as { id: string; status: string };
    expect(run.status).toBe('running');
    // The fake gives an invocation 10 s, less than the 60 s a shard is begun with: the first one is begun anyway.
    const continued = (await invoke('reconcile', { reconcileRun: run.id })) as unknown as { mesh: { outcome: string; run: { id: string; status: string; shardsDone: number; servicesSeen: number } } };
    expect(continued.mesh.outcome).toBe('finished');
    expect(continued.mesh.run).toMatchObject({ id: run.id, status: 'finished', shardsDone: 1 });
    const status = await transportAs(admin).send({ method: 'GET', path: `/v1/reconcile/runs/${run.id}` });
    expect(status).toMatchObject({ statusCode: 200, body: { id: run.id, status: 'finished' } });
  });
});

describe('refused identities', () => {
  it('an unmapped principal is 403 naming its ARN, and nothing is written', async () => {
    const service = uniqueService();
    const before = await scanTable(api.table);

    const answer = await transportAs(stranger).send({ method: 'POST', path: '/v1/deployments', body: deploymentBody({ service }) });

    expect(answer.statusCode).toBe(403);
    expect(answer.body).toEqual({ error: { code: 'FORBIDDEN', message: `IAM principal ${stranger.arn} is not in crossfade.yaml iamPrincipals (neither it nor its role is listed)`, rule: 'iam-principal' } });
    expect(await scanTable(api.table)).toEqual(before);
  });

  it('a tampered presigned URL is refused by STS: 401', async () => {
    const url = new URL(await presign(deployer));
    url.searchParams.set('X-Amz-Expires', '300'); // a longer life than was signed

    const answer = await invoke('deployments', { ...listDeployments('checkout'), identity: { sts: { url: url.href } } });

    expect(answer.statusCode).toBe(401);
    expect(answer.body.error).toEqual({ code: 'UNAUTHENTICATED', message: 'STS refused the presigned GetCallerIdentity (SignatureDoesNotMatch)' });
  });

  it('a proof made for another audience (another crossfade) fails STS signature check: 401', async () => {
    const answer = await invoke('deployments', { ...listDeployments('checkout'), identity: { sts: { url: await presign(deployer, { headerValue: 'crossfade-staging' }) } } });
    expect(answer.statusCode).toBe(401);
    expect(answer.body.error?.['message']).toBe('STS refused the presigned GetCallerIdentity (SignatureDoesNotMatch)');
  });

  it('a proof that does not sign x-crossfade-id (an EKS token, say) is refused before STS is asked', async () => {
    const asked = sts.requests.length;

    const answer = await invoke('deployments', { ...listDeployments('checkout'), identity: { sts: { url: await presign(deployer, { headerName: 'x-k8s-aws-id', headerValue: 'prod-cluster' }) } } });

    expect(answer.statusCode).toBe(401);
    expect(answer.body.error?.['message']).toBe('the presigned sts:GetCallerIdentity URL must sign exactly the headers host and x-crossfade-id');
    expect(sts.requests.length).toBe(asked);
  });

  it('a URL to a host that is not STS is refused, and that host is never asked', async () => {
    const answer = await invoke('deployments', { ...listDeployments('checkout'), identity: { sts: { url: await presign(stranger, { endpoint: rogue.endpoint }) } } });

    expect(answer.statusCode).toBe(401);
    expect(answer.body.error?.['message']).toBe(`the presigned sts:GetCallerIdentity URL must go to STS (https://sts.<region>.amazonaws.com), not ${new URL(rogue.endpoint).host}`);
    expect(rogue.requests).toEqual([]);
  });

  it('an expired proof is refused before STS is asked; one valid for longer than 15 minutes too', async () => {
    const asked = sts.requests.length;
    const old = await presign(deployer, { signingDate: new Date(Date.now() - 120_000), expiresInSeconds: 60 });
    const long = await presign(deployer, { expiresInSeconds: 3600 });

    const expired = await invoke('deployments', { ...listDeployments('checkout'), identity: { sts: { url: old } } });
    const tooLong = await invoke('deployments', { ...listDeployments('checkout'), identity: { sts: { url: long } } });

    expect(expired.body.error?.['message']).toBe('the presigned sts:GetCallerIdentity URL has expired: presign a new one');
    expect(tooLong.body.error?.['message']).toBe('the presigned sts:GetCallerIdentity URL must have an X-Amz-Date and an X-Amz-Expires of 1 to 900 seconds');
    expect([expired.statusCode, tooLong.statusCode]).toEqual([401, 401]);
    expect(sts.requests.length).toBe(asked);
  });

  it('IAM refusing the invoke is a 403 answer; a prefix that names no function is "unreachable"', async () => {
    lambda.denyAccessKey(stranger.accessKeyId);
    const denied = await transportAs(stranger).send({ method: 'GET', path: '/healthz' });
    expect(denied.statusCode).toBe(403);
    expect(denied.body).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining(`invoke ${PREFIX}-health`) } });

    const nowhere = createLambdaTransport({ functionPrefix: 'crossfade-nope', region: 'us-east-1', lambdaEndpoint: lambda.endpoint, stsEndpoint: sts.endpoint, credentials: deployer });
    const error = await rejectionOf(nowhere.send({ method: 'GET', path: '/healthz' }));
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain('no function crossfade-nope-health');
  });
});

describe('the invoke event', () => {
  it('a crossfade token in identity.bearer works as over HTTP (Spinnaker\'s AWS Lambda Invoke stage)', async () => {
    const answer = await invoke('deployments', { ...listDeployments('checkout'), identity: { bearer: tokens.checkoutDeployer } });
    expect(answer).toMatchObject({ statusCode: 200, body: { items: [] } });
  });

  it('no identity is 401; a malformed event is 400 naming the field and the rule', async () => {
    expect((await invoke('deployments', listDeployments('checkout'))).statusCode).toBe(401);
    const bad = await invoke('deployments', { crossfade: { method: 'PATCH', path: '/v1/deployments' }, identity: { bearer: tokens.admin } });
    expect(bad).toMatchObject({ statusCode: 400, body: { error: { code: 'VALIDATION_FAILED', field: 'crossfade.method', message: 'crossfade.method must be one of "GET", "POST", "PUT", "DELETE"' } } });
    const smuggled = await invoke('deployments', { crossfade: { method: 'GET', path: '/v1/deployments', headers: { authorization: `Bearer ${tokens.admin}` } } });
    expect(smuggled).toMatchObject({ statusCode: 400, body: { error: { field: 'crossfade.headers.authorization' } } });
  });

  it('a route another function serves is 404 here', async () => {
    const answer = await invoke('health', { crossfade: { method: 'GET', path: '/v1/deployments' }, identity: { bearer: tokens.admin } });
    expect(answer).toMatchObject({ statusCode: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});
