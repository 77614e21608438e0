/**
 * `npm start` as an operator meets it: a real process on 127.0.0.1, the printed admin token, the
 * canary run in-process, state that survives a restart, a clean stop on SIGTERM, and a plain
 * message, one line and exit 1, when it cannot start (the port taken, the data directory held by
 * another crossfade, an admin-token file other users may read).
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killLocalProcesses, startLocalProcess as start, waitFor, waitForOutput, type LocalProcess } from '../support/local-process.js';
import { freePort } from '../support/ports.js';
import { deploymentBody } from '../support/requests.js';

afterEach(killLocalProcesses);

describe('npm start', () => {
  // Three cold starts of `tsx local/main.ts`: ~3 s each alone, several times that on a loaded runner.
  it('prints a token that works, runs the canary, keeps deployments across a restart and resumes their runs, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crossfade-start-'));
    const port = await freePort();
    const env = { CROSSFADE_DATA_DIR: dataDir, PORT: String(port) };

    const first = start(env);
    const [, token] = await waitForOutput(first, /admin token \(saved to [^)]+\): (cf_\S+)/);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const call = (method: string, path: string, body?: unknown) => fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    // A deployment's versions must be registered; the embedded configuration's clusters are eks-use1 and gke-usc1.
    for (const [index, version] of ['v41', 'v42'].entries()) {
      const registered = await call('PUT', `/v1/services/checkout/versions/${version}`, { targets: [{ cloud: 'gcp', cluster: 'gke-usc1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints: [{ address: `10.8.0.${index + 1}`, port: 8080 }] }] });
      expect(registered.status).toBe(201);
    }
    // 5% on gcp, then a manual gate: the in-process run gets there at once and waits, so the document holds still.
    const created = await call('POST', '/v1/deployments', deploymentBody({ steps: [{ setWeight: 5, wave: ['gcp'] }, { pause: {} }, { setWeight: 100 }] }));
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const actions = async () => ((await (await call('GET', `/v1/deployments/${id}/events`)).json()) as { items: { action: string }[] }).items.map((e) => e.action);
    await waitFor(async () => (await actions()).includes('deployment.hold'));
    const atGate = (await (await call('GET', `/v1/deployments/${id}`)).json()) as Record<string, unknown>;
    expect(atGate).toMatchObject({ id, status: 'RUNNING', phase: 'PAUSED', step: { index: 1, count: 3 }, weights: { gcp: { v41: 95, v42: 5 }, aws: { v41: 100, v42: 0 } } });

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = start(env);
    await waitForOutput(second, /admin token: in /);
    expect(second.output()).toContain('resumed: 1 unfinished run from their stored state');
    // The run stopped with the process and goes on in this one: the gate's hold (whose token died
    // with the first process) is closed and opened again, at the same step, with the same traffic.
    await waitFor(async () => (await actions()).filter((action) => action === 'deployment.hold').length === 2);
    const read = await fetch(`${base}/v1/deployments/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    const resumed = (await read.json()) as Record<string, unknown>;
    expect(resumed).toMatchObject({ id, status: 'RUNNING', phase: 'PAUSED', step: { index: 1, count: 3 }, weights: atGate['weights'] });
    expect(await actions()).toEqual(expect.arrayContaining(['deployment.created', 'deployment.prepare', 'deployment.shift', 'deployment.converge', 'deployment.hold', 'deployment.unhold']));
    // The gate is passed in this process: the run ends as its plan says.
    expect((await call('POST', `/v1/deployments/${id}/promote`, {})).status).toBe(200);
    await waitFor(async () => ((await (await call('GET', `/v1/deployments/${id}`)).json()) as { status: string }).status === 'SUCCEEDED');

    const third = start({ ...env, CROSSFADE_DATA_DIR: mkdtempSync(join(tmpdir(), 'crossfade-start-')) });
    expect(await third.exited).toBe(1);
    expect(third.output()).toContain(`crossfade: port ${port} on 127.0.0.1 is already in use`);
    expect(third.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 90_000);

  /** What a refused start printed: exactly one line, `crossfade: ...`, and no stack. */
  async function refusedStart(started: LocalProcess): Promise<string> {
    expect(await started.exited).toBe(1);
    const lines = started.output().split('\n').filter((line) => line.startsWith('crossfade'));
    expect(lines).toHaveLength(1);
    expect(started.output()).not.toMatch(/\n\s+at /);
    return lines[0]!;
  }

  it('a second crossfade on the same data directory stops at start with one line, and the first keeps serving', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crossfade-start-'));
    const [firstPort, secondPort] = [await freePort(), await freePort()];
    const first = start({ CROSSFADE_DATA_DIR: dataDir, PORT: String(firstPort) });
    await waitForOutput(first, /crossfade listening on /);

    const second = start({ CROSSFADE_DATA_DIR: dataDir, PORT: String(secondPort) });
    const line = await refusedStart(second);
    expect(line).toBe(`crossfade: cannot start: cannot open the embedded store at ${join(dataDir, 'store')}: its LevelDB is locked by another process (is another crossfade running on this data directory?)`);
    expect((await fetch(`http://127.0.0.1:${firstPort}/healthz`)).status).toBe(200);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  }, 60_000);

  it.skipIf(process.platform === 'win32')('an admin-token file other users may read stops the start, saying how to fix it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crossfade-start-'));
    const tokenPath = join(dataDir, 'admin-token');
    writeFileSync(tokenPath, 'cf_a_token_anybody_on_this_host_can_read\n');
    chmodSync(tokenPath, 0o644);
    const line = await refusedStart(start({ CROSSFADE_DATA_DIR: dataDir, PORT: String(await freePort()) }));
    expect(line).toBe(`crossfade: cannot start: ${tokenPath} is open to other users (mode 0644) and holds the admin token: run chmod 600 ${tokenPath}`);
  }, 60_000);

  it('discovery without credentials asks no metadata server and says what to set (422)', async () => {
    // One listener stands in for both metadata servers (the SDKs' own variables point them at it).
    let metadataConnections = 0;
    const metadata = createServer((socket) => {
      metadataConnections++;
      socket.destroy();
    });
    await new Promise<void>((listening) => metadata.listen(0, '127.0.0.1', listening));
    const metadataAddress = `127.0.0.1:${(metadata.address() as AddressInfo).port}`;
    const credentialVariables = Object.keys(process.env).filter((key) => /^(AWS_|GOOGLE_|GCE_|CLOUDSDK_)/.test(key));
    const port = await freePort();
    const started = start({
      ...Object.fromEntries(credentialVariables.map((key) => [key, undefined])),
      CROSSFADE_DATA_DIR: mkdtempSync(join(tmpdir(), 'crossfade-start-')),
      PORT: String(port),
      HOME: mkdtempSync(join(tmpdir(), 'crossfade-home-')), // no ~/.aws, no gcloud credentials
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://${metadataAddress}`,
      GCE_METADATA_HOST: metadataAddress,
      GCE_METADATA_IP: metadataAddress,
    });
    const [, token] = await waitForOutput(started, /admin token \(saved to [^)]+\): (cf_\S+)/);
    const register = (cloud: string, cluster: string) =>
      fetch(`http://127.0.0.1:${port}/v1/services/checkout/versions/v42`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ targets: [{ cloud, cluster, namespace: 'checkout', kubernetesService: 'checkout', port: 8080 }] }),
      });
    try {
      const [aws, gcp] = [await register('aws', 'eks-use1'), await register('gcp', 'gke-usc1')];
      expect(metadataConnections).toBe(0);
      expect([aws.status, gcp.status]).toEqual([422, 422]);
      expect(await aws.json()).toEqual({
        error: { code: 'CLUSTER_CREDENTIALS_MISSING', message: 'no AWS credentials for cluster eks-use1; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or give the endpoints explicitly' },
      });
      expect(await gcp.json()).toEqual({
        error: { code: 'CLUSTER_CREDENTIALS_MISSING', message: 'no Google credentials for cluster gke-usc1; set GOOGLE_APPLICATION_CREDENTIALS (or run gcloud auth application-default login), or give the endpoints explicitly' },
      });
    } finally {
      started.child.kill('SIGTERM');
      await started.exited;
      await new Promise((closed) => metadata.close(closed));
    }
  }, 60_000);
});
