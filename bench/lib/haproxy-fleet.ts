/**
 * Local HAProxy instances for the bench, everything on 127.0.0.1: each `haproxy -W` (master-worker)
 * with one thread, a TCP admin socket, one frontend and the backends asked for, started as a child
 * process and stopped by PID. Unlike test/support/haproxy.ts, an instance can have its config
 * rewritten and be reloaded the classic way (the master re-reads the file and starts a new worker):
 * the baseline the Runtime API is compared against.
 *
 * Reloads go through the master CLI (`-S`, a unix socket), not SIGUSR2: on 2.6.12 a SIGUSR2 that
 * arrives while the master is still starting up after the previous reload (measured: up to ~100 ms
 * after the new worker already answers) is lost without a trace, and the reload never happens. A
 * connection to the master CLI waits in the socket's backlog instead, so no reload is dropped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.js';

export interface FleetServer {
  name: string;
  address: string;
  port: number;
  weight: number;
}

export interface FleetBackend {
  name: string;
  servers: readonly FleetServer[];
}

export interface BenchHaproxy {
  /** As a crossfade.yaml HAProxy proxy: the TCP admin socket. */
  proxy: { name: string; runtimeApi: string };
  adminPort: number;
  /** Rewrites haproxy.cfg with these backends (same sockets and frontend). Takes effect on reload. */
  writeConfig(backends: readonly FleetBackend[]): Promise<void>;
  /**
   * `reload` on the master CLI: the master re-reads the config and replaces its worker. Resolves
   * once the master has taken the command (it closes the CLI connection), not when the new worker
   * serves: poll the admin socket for that.
   */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian installs HAProxy in /usr/sbin, which a non-root PATH may lack. */
const HAPROXY_ENV = { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin` };
const START_ATTEMPTS = 200;
const START_POLL_MS = 25;
const STOP_GRACE_MS = 5_000;
const RELOAD_ATTEMPTS = 100;
const RELOAD_RETRY_MS = 5;

/** Why HAProxy cannot run here, or undefined when `haproxy -v` answers. */
export function haproxyUnavailable(): string | undefined {
  const probe = spawnSync('haproxy', ['-v'], { env: HAPROXY_ENV, encoding: 'utf8' });
  if (probe.error) return `haproxy not found (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message})`;
  if (probe.status !== 0) return `\`haproxy -v\` exited with ${probe.status}`;
  return undefined;
}

export function haproxyVersion(): string {
  const probe = spawnSync('haproxy', ['-v'], { env: HAPROXY_ENV, encoding: 'utf8' });
  return /HAProxy version (\S+)/.exec(probe.stdout ?? '')?.[1] ?? 'unknown';
}


function configText(adminPort: number, frontendPort: number, backends: readonly FleetBackend[]): string {
  return [
    'global',
    '    nbthread 1',
    `    stats socket ipv4@127.0.0.1:${adminPort} level admin`,
    // An old worker left by a reload goes within this bound even if a connection lingers.
    '    hard-stop-after 5s',
    'defaults',
    '    mode http',
    '    timeout connect 2s',
    '    timeout client 30s',
    '    timeout server 30s',
    'frontend fe',
    `    bind 127.0.0.1:${frontendPort}`,
    `    default_backend ${backends[0]?.name ?? 'none'}`,
    ...backends.flatMap((backend) => [
      `backend ${backend.name}`,
      '    balance roundrobin',
      ...backend.servers.map((s) => `    server ${s.name} ${s.address}:${s.port} weight ${s.weight}`),
    ]),
    '',
  ].join('\n');
}

/** One line to the master CLI (a unix socket); resolves with the answer once the master closes the connection. */
function masterLine(socketPath: string, line: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`master CLI ${socketPath}: no answer to "${line}"`)));
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** One line to the admin socket; the answer as HAProxy sent it. */
export function adminLine(adminPort: number, line: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: adminPort });
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`admin socket ${adminPort}: no answer to "${line}"`)));
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

async function workerPid(adminPort: number): Promise<number | undefined> {
  const info = await adminLine(adminPort, 'show info', 500).catch(() => '');
  const pid = /^Pid: (\d+)$/m.exec(info)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** Kills `pid` only if it is still an haproxy process: a PID reused by something else is left alone. */
function killHaproxyPid(pid: number): void {
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'haproxy') return;
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone: the usual case
  }
}

export async function startBenchHaproxy(name: string, backends: readonly FleetBackend[]): Promise<BenchHaproxy> {
  const dir = await mkdtemp(join(tmpdir(), `crossfade-bench-haproxy-${name}-`));
  const configPath = join(dir, 'haproxy.cfg');
  const masterSocket = join(dir, 'master.sock');
  const adminPort = await freePort();
  const frontendPort = await freePort();
  await writeFile(configPath, configText(adminPort, frontendPort, backends));

  const master: ChildProcess = spawn('haproxy', ['-W', '-S', `${masterSocket},mode,600`, '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'], env: HAPROXY_ENV });
  let stderr = '';
  master.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  master.once('error', (error) => (stderr += String(error)));
  const exited = new Promise<void>((done) => master.once('exit', () => done()));
  const knownWorkers = new Set<number>();

  const stop = async (): Promise<void> => {
    const current = await workerPid(adminPort);
    if (current !== undefined) knownWorkers.add(current);
    if (master.exitCode === null && master.signalCode === null) {
      master.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STOP_GRACE_MS))]);
      if (!stopped) master.kill('SIGKILL');
    }
    // The master takes its workers down with it; if it died too abruptly to do so, they go by PID.
    for (const pid of knownWorkers) killHaproxyPid(pid);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let attempt = 0; ; attempt++) {
      if (master.exitCode !== null || master.signalCode !== null || attempt >= START_ATTEMPTS) throw new Error(`HAProxy ${name} did not start (${configPath}):\n${stderr}`);
      const pid = await workerPid(adminPort);
      if (pid !== undefined) {
        knownWorkers.add(pid);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    proxy: { name, runtimeApi: `127.0.0.1:${adminPort}` },
    adminPort,
    writeConfig: (next) => writeFile(configPath, configText(adminPort, frontendPort, next)),
    reload: async () => {
      // Refused only while the master re-executes itself (its socket is briefly gone): ask again, a bounded number of times.
      for (let attempt = 1; ; attempt++) {
        try {
          await masterLine(masterSocket, 'reload');
          return;
        } catch (error) {
          if (attempt >= RELOAD_ATTEMPTS) throw new Error(`HAProxy ${name}: master CLI refused reload ${attempt} times: ${(error as Error).message}\n${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, RELOAD_RETRY_MS));
        }
      }
    },
    stop,
  };
}

/**
 * `count` instances named `<prefix>-<i>`, started a few at a time. If one fails to start, the ones
 * already running are stopped before the error is thrown.
 */
export async function startHaproxyFleet(prefix: string, count: number, backends: readonly FleetBackend[]): Promise<BenchHaproxy[]> {
  const started: BenchHaproxy[] = [];
  const batch = 4;
  try {
    for (let first = 0; first < count; first += batch) {
      const names = Array.from({ length: Math.min(batch, count - first) }, (_, i) => `${prefix}-${first + i}`);
      const results = await Promise.allSettled(names.map((name) => startBenchHaproxy(name, backends)));
      for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return started;
  } catch (error) {
    await stopFleet(started);
    throw error;
  }
}

export async function stopFleet(fleet: readonly BenchHaproxy[]): Promise<void> {
  await Promise.allSettled(fleet.map((instance) => instance.stop()));
}
