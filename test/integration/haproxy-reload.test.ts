/**
 * `crossfade haproxy-state` against real HAProxy 2.6 reloaded through its master CLI, laid out as
 * docs/dataplane.md "HAProxy reloads" says: haproxy.cfg routes to cf_checkout, which only the
 * servers file declares; crossfade's servers are dynamic (`add server`), so a reload keeps them only
 * when `save` ran before it. Everything listens on 127.0.0.1.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runHaproxyState } from '../../cli/haproxy-state.js';
import { HaproxyTrafficRouter, haproxyServerName } from '../../shared/adapters/haproxy/haproxy-router.js';
import { createJsonLogger } from '../../shared/adapters/json-logger.js';
import type { ProxyGroup, Split } from '../../shared/domain/mesh.js';
import type { VersionEndpoints } from '../../shared/ports/traffic-router.js';
import { adminCommand, serversOf, startHaproxy, wheelTurn, type HaproxyInstance } from '../support/haproxy.js';
import { countAnswers, startHttpBackends, type HttpBackends } from '../support/http-backends.js';
import { freePort } from '../support/ports.js';

const SERVICE = 'checkout';
const BACKEND = 'cf_checkout';
const CANARY: Split = { v1: 90, v2: 10 };
const router = new HaproxyTrafficRouter({ retryDelayMs: 10 });
const silent = createJsonLogger({ level: 'silent' });
const ROOT = resolve(import.meta.dirname, '..', '..');

let pods: HttpBackends;
beforeAll(async () => {
  pods = await startHttpBackends(['v1-a', 'v1-b', 'v2-a', 'v2-b']);
});
afterAll(() => pods?.stop());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-haproxy-state-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const groupOf = (haproxy: HaproxyInstance): ProxyGroup => ({ name: 'edge-use1', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [haproxy.proxy] });
const backendOf = (ids: Record<string, string[]>): VersionEndpoints[] => Object.entries(ids).map(([version, list]) => ({ version, endpoints: list.map((id) => pods.endpointOf(id)) }));
const fullBackend = (): VersionEndpoints[] => backendOf({ v1: ['v1-a', 'v1-b'], v2: ['v2-a', 'v2-b'] });
/** The HAProxy server name of a pod (`v2-b` → `v2_127.0.0.1_<port>`). */
const serverOf = (id: string): string => haproxyServerName(id.split('-')[0]!, pods.endpointOf(id));

/** Counted after two turns of the round-robin wheel, for the reason test/integration/haproxy.test.ts gives. */
async function countAfterTwoTurns(haproxy: HaproxyInstance, requests: number): Promise<Record<string, number>> {
  await countAnswers(haproxy.frontendPort, 2 * (await wheelTurn(haproxy.adminPort, BACKEND)));
  return countAnswers(haproxy.frontendPort, requests);
}

const workerPid = async (haproxy: HaproxyInstance): Promise<string | undefined> => /^Pid: (\d+)$/m.exec(await adminCommand(haproxy.adminPort, 'show info'))?.[1];

interface ProxyHost {
  haproxy: HaproxyInstance;
  serversFile: string;
  /** `crossfade haproxy-state save` through the TCP admin socket, into the files HAProxy loads. */
  save(): Promise<number>;
}

/** A first start as on a new proxy host: `init` writes the servers file, then HAProxy loads it as its second -f. */
async function startProxyHost(name: string): Promise<ProxyHost> {
  const serversFile = join(scratchDir(), 'crossfade-servers.cfg');
  expect(await runHaproxyState(['init', '--servers-file', serversFile, '--backend', BACKEND], { logger: silent })).toBe(0);
  const haproxy = await startHaproxy(name, [], { extraConfigFiles: [serversFile], defaultBackend: BACKEND });
  cleanups.push(() => haproxy.stop());
  const save = (): Promise<number> => runHaproxyState(['save', '--socket', haproxy.proxy.runtimeApi, '--state-file', haproxy.stateFile, '--servers-file', serversFile], { logger: silent });
  return { haproxy, serversFile, save };
}

describe('a reload keeps what crossfade set when haproxy-state save ran just before it', () => {
  it('dynamic servers at 90/10: after save and reload verifySplit says converged and traffic is still exactly 1800/200', async () => {
    const { haproxy, serversFile, save } = await startProxyHost('edge-1');
    await router.applySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY);
    expect(readFileSync(serversFile, 'utf8')).not.toContain('server '); // no config declares them: all four are dynamic
    const workerBefore = await workerPid(haproxy);

    expect(await save()).toBe(0);
    await haproxy.reload();

    expect(await workerPid(haproxy)).not.toBe(workerBefore);
    expect(readFileSync(serversFile, 'utf8')).toContain(`    server ${serverOf('v1-a')} 127.0.0.1:${pods.endpointOf('v1-a').port} weight 45\n`);
    expect(await router.verifySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY)).toEqual({ state: 'converged' });
    const counts = await countAfterTwoTurns(haproxy, 2000);
    expect(counts).toEqual({ 'v1-a': 900, 'v1-b': 900, 'v2-a': 100, 'v2-b': 100 });
  });

  it('control: the same reload without save loses every server, and verifySplit says so', async () => {
    const { haproxy } = await startProxyHost('edge-2');
    await router.applySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY);
    expect(await router.verifySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY)).toEqual({ state: 'converged' });

    await haproxy.reload();

    expect(await serversOf(haproxy.adminPort, BACKEND)).toEqual({});
    const verification = await router.verifySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY);
    expect(verification).toMatchObject({ state: 'pending', lagging: [{ proxy: 'edge-2' }] });
    expect(verification.state === 'pending' && verification.lagging[0]!.reason).toContain(`server ${serverOf('v1-a')} is missing`);
  });

  it('a drained server stays drained and one in maintenance stays out; the next applySplit enables it and deletes the drained one', async () => {
    const { haproxy, save } = await startProxyHost('edge-3');
    const fewer = backendOf({ v1: ['v1-a'], v2: ['v2-a', 'v2-b'] });
    await router.applySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY);
    await router.applySplit(groupOf(haproxy), SERVICE, fewer, CANARY); // v1-b is no longer registered: drained
    expect(await adminCommand(haproxy.adminPort, `set server ${BACKEND}/${serverOf('v2-b')} state maint`)).toBe('\n');

    expect(await save()).toBe(0);
    await haproxy.reload();

    expect(await serversOf(haproxy.adminPort, BACKEND)).toMatchObject({
      [serverOf('v1-b')]: { weight: 45, admin: 0x08 }, // FDRAIN, from the state file
      [serverOf('v2-b')]: { weight: 5, admin: 0x01 | 0x04 }, // FMAINT, and CMAINT from `disabled`
    });
    expect(await router.verifySplit(groupOf(haproxy), SERVICE, fewer, CANARY)).toEqual({ state: 'pending', lagging: [{ proxy: 'edge-3', reason: `server ${serverOf('v2-b')} is in maint` }] });
    expect(await countAnswers(haproxy.frontendPort, 400)).toEqual({ 'v1-a': expect.any(Number), 'v2-a': expect.any(Number) });

    await router.applySplit(groupOf(haproxy), SERVICE, fewer, CANARY);

    // CMAINT stays after `state ready` and the server serves: crossfade must not read it as maintenance.
    expect(await router.verifySplit(groupOf(haproxy), SERVICE, fewer, CANARY)).toEqual({ state: 'converged' });
    expect(await serversOf(haproxy.adminPort, BACKEND)).not.toHaveProperty(serverOf('v1-b'));
  });

  it('a service added to haproxy.cfg: init and save declare its backend empty, keeping the saved servers; a reload then serves both', async () => {
    const { haproxy, serversFile, save } = await startProxyHost('edge-4');
    await router.applySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY);
    expect(await save()).toBe(0);
    const saved = readFileSync(serversFile, 'utf8');
    const init = (): Promise<number> => runHaproxyState(['init', '--servers-file', serversFile, '--backend', BACKEND, '--backend', 'cf_payments'], { logger: silent });

    expect(await init()).toBe(0);
    const seeded = readFileSync(serversFile, 'utf8');
    expect(seeded).toBe(`${saved}\nbackend cf_payments\n    balance roundrobin\n`);
    expect(await init()).toBe(0);
    expect(readFileSync(serversFile, 'utf8')).toBe(seeded);

    const args = ['save', '--socket', haproxy.proxy.runtimeApi, '--state-file', haproxy.stateFile, '--servers-file', serversFile, '--backend', 'cf_payments'];
    expect(await runHaproxyState(args, { logger: silent })).toBe(0);
    expect(readFileSync(serversFile, 'utf8')).toBe(seeded);
    await haproxy.reload();

    expect(await serversOf(haproxy.adminPort, 'cf_payments')).toEqual({});
    expect(await router.verifySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY)).toEqual({ state: 'converged' });
  });
});

describe('haproxy-state save --every', () => {
  it('saves again at every interval, so the files follow the running state, until stopped', async () => {
    const { haproxy, serversFile } = await startProxyHost('edge-5');
    await router.applySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY);
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (_level, line) => lines.push(line) });
    const stop = new AbortController();
    const args = ['save', '--every', '0.05', '--socket', haproxy.proxy.runtimeApi, '--state-file', haproxy.stateFile, '--servers-file', serversFile];
    const running = runHaproxyState(args, { logger, signal: stop.signal });

    await until(() => readFileSync(serversFile, 'utf8').includes(`${serverOf('v1-a')} 127.0.0.1:${pods.endpointOf('v1-a').port} weight 45\n`));
    await adminCommand(haproxy.adminPort, `set server ${BACKEND}/${serverOf('v1-a')} weight 50`);
    await until(() => readFileSync(serversFile, 'utf8').includes(`weight 50\n`) && readFileSync(haproxy.stateFile, 'utf8').includes(` ${serverOf('v1-a')} 127.0.0.1 2 0 50 `));
    stop.abort();

    expect(await running).toBe(0);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: 'info', message: 'stopped saving haproxy state' });
    expect(lines.filter((line) => line.includes('"haproxy state saved"')).length).toBeGreaterThanOrEqual(2);
  });

  it('keeps going while HAProxy is unreachable, writing nothing', async () => {
    const dir = scratchDir();
    const lines: string[] = [];
    const stop = new AbortController();
    const args = ['save', '--every', '0.05', '--socket', `127.0.0.1:${await freePort()}`, '--state-file', join(dir, 'state'), '--servers-file', join(dir, 'servers.cfg')];
    const running = runHaproxyState(args, { logger: createJsonLogger({ write: (_level, line) => lines.push(line) }), signal: stop.signal, settings: { connectAttempts: 1 } });

    await until(() => lines.filter((line) => line.includes('"haproxy state not saved"')).length >= 2);
    stop.abort();

    expect(await running).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });
});

// A child process starts tsx and loads the CLI's imports: seconds, more on a busy machine.
const CHILD_TIMEOUT_MS = 60_000;

describe('the crossfade command', () => {
  it('save: exit 0 and both files written through the unix socket; an unreachable socket: exit 1, one line, no file', async () => {
    const { haproxy } = await startProxyHost('edge-6');
    await router.applySplit(groupOf(haproxy), SERVICE, fullBackend(), CANARY);
    const dir = scratchDir();
    const files = (name: string): string[] => ['--state-file', join(dir, `${name}.state`), '--servers-file', join(dir, `${name}.cfg`)];

    const saved = await crossfade('npx', ['haproxy-state', 'save', '--socket', haproxy.unixProxy.runtimeApi.slice('unix:'.length), ...files('ok')]);
    const refused = await crossfade('node', ['haproxy-state', 'save', '--socket', `127.0.0.1:${await freePort()}`, ...files('refused')]);

    expect(saved).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(saved.stdout)).toMatchObject({ level: 'info', message: 'haproxy state saved', backends: [BACKEND], servers: 4 });
    expect(readFileSync(join(dir, 'ok.cfg'), 'utf8')).toContain(`    server ${serverOf('v2-b')} 127.0.0.1:${pods.endpointOf('v2-b').port} weight 5\n`);
    expect(readFileSync(join(dir, 'ok.state'), 'utf8')).toMatch(/^1\n# be_id be_name /);
    expect(statSync(join(dir, 'ok.cfg')).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'ok.state')).mode & 0o777).toBe(0o600);

    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(refused.stderr)).toMatchObject({ level: 'error', message: 'haproxy state not saved', error: expect.stringContaining('ECONNREFUSED') });
    expect(readdirSync(dir).sort()).toEqual(['ok.cfg', 'ok.state']); // nothing from the refused save, not even a temporary file
  }, CHILD_TIMEOUT_MS);

  it('save --every: exits 0 on SIGTERM', async () => {
    const { haproxy, serversFile } = await startProxyHost('edge-7');
    // node itself, not npx, whose wrapper processes would take the signal.
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'haproxy-state', 'save', '--every', '0.2', '--socket', haproxy.proxy.runtimeApi, '--state-file', haproxy.stateFile, '--servers-file', serversFile], { cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    cleanups.push(() => void child.kill('SIGKILL'));

    await until(() => stdout.includes('"haproxy state saved"'), CHILD_TIMEOUT_MS - 10_000);
    child.kill('SIGTERM');

    expect(await exited).toBe(0);
    expect(stdout.trim().split('\n').map((line) => (JSON.parse(line) as { message: string }).message).at(-1)).toBe('stopped saving haproxy state');
  }, CHILD_TIMEOUT_MS);

  it('refuses bad arguments before touching anything', async () => {
    const run = (args: string[]): Promise<number> => runHaproxyState(args, { logger: silent });
    await expect(run(['save', '--state-file', 's', '--servers-file', 'f'])).rejects.toThrow('--socket is required');
    await expect(run(['save', '--socket', '/x', '--servers-file', 'f'])).rejects.toThrow('--state-file is required');
    await expect(run(['save', '--socket', '/x', '--state-file', 's', '--servers-file', 'f', '--backend', 'checkout'])).rejects.toThrow('--backend checkout must be cf_<service>');
    await expect(run(['save', '--socket', '/x', '--state-file', 's', '--servers-file', 'f', '--every', '0'])).rejects.toThrow('--every must be a number of seconds');
    await expect(run(['init', '--servers-file', 'f'])).rejects.toThrow('--backend is required');
    await expect(run(['load', '--servers-file', 'f'])).rejects.toThrow('unknown subcommand load');
    await expect(run(['save', '--socket', '203.0.113.7:9999', '--state-file', 's', '--servers-file', 'f'])).rejects.toThrow('neither loopback nor private');
  });
});

/**
 * The command from the checkout, its exit code and output: `npx tsx cli/main.ts <args>` as an
 * operator runs it, or `node --import tsx cli/main.ts <args>`, one process, lighter on a busy machine.
 */
function crossfade(via: 'npx' | 'node', args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [command, prefix] = via === 'npx' ? ['npx', ['tsx']] : [process.execPath, ['--import', 'tsx']];
  return new Promise((done) => {
    const child = execFile(command, [...prefix, 'cli/main.ts', ...args], { cwd: ROOT, timeout: CHILD_TIMEOUT_MS - 10_000 }, (_error, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }));
  });
}

/** Polls `condition` every 20 ms, failing after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
