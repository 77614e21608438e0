/**
 * `npm start` as an operator meets it: a real process on 127.0.0.1, the printed admin token,
 * state that survives a restart, a clean stop on SIGTERM, and a plain message when the port is taken.
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

describe('npm start', () => {
  it('prints a token that works, keeps deployments across a restart, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crossfade-start-'));
    const port = await freePort();
    const env = { CROSSFADE_DATA_DIR: dataDir, PORT: String(port) };

    const first = start(env);
    const [, token] = await waitForOutput(first, /admin token \(saved to [^)]+\): (cf_\S+)/);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const created = await fetch(`${base}/v1/deployments`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(deploymentBody()) });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = start(env);
    await waitForOutput(second, /admin token: in /);
    const read = await fetch(`${base}/v1/deployments/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id, status: 'NOT_STARTED' });

    const third = start({ ...env, CROSSFADE_DATA_DIR: mkdtempSync(join(tmpdir(), 'crossfade-start-')) });
    expect(await third.exited).toBe(1);
    expect(third.output()).toContain(`crossfade: port ${port} on 127.0.0.1 is already in use`);
    expect(third.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
