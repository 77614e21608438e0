/**
 * `npm start` as an operator meets it: a real process on 127.0.0.1, the printed admin token, the
 * canary run in-process, state that survives a restart, a clean stop on SIGTERM, and a plain
 * message when the port is taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { deploymentBody } from '../support/requests.js';

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const running: ChildProcess[] = [];

afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function start(env: Record<string, string>): Started {
  // The `start` script is `tsx local/main.ts`; run it directly so the PID we stop is the server's.
  // The test process's CROSSFADE_* settings (other suites point them at DynamoDB Local) stay out.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CROSSFADE_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForOutput(started: Started, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (started.child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

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
});
