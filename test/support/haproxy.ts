/**
 * Real HAProxy instances for integration tests, everything on 127.0.0.1: a temp haproxy.cfg with
 * an admin socket (TCP and unix), a server-state file, one frontend, and the backends a test asks
 * for; `haproxy -W` (master-worker) started as a child process and stopped by PID. Plus a raw
 * socket for changes "by hand" and a relay that records every line sent to an admin socket.
 *
 * A reload goes through the master CLI (`-S`), as bench/lib/haproxy-fleet.ts explains: a SIGUSR2
 * sent while the master is still re-executing itself is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { freePort } from './ports.js';
import { join } from 'node:path';

export interface ConfigServer {
  name: string;
  address: string;
  port: number;
  weight: number;
}

export interface BackendConfig {
  name: string;
  /** `roundrobin` unless said otherwise; `source` is static, and refuses weights and `add server`. */
  balance?: 'roundrobin' | 'source';
  /** Servers written into the config: what a restart without a state file comes back to. */
  servers?: readonly ConfigServer[];
}

export interface HaproxyInstance {
  /** As a crossfade.yaml proxy: the TCP admin socket. */
  proxy: { name: string; runtimeApi: string };
  /** The same instance through its unix admin socket. */
  unixProxy: { name: string; runtimeApi: string };
  adminPort: number;
  frontendPort: number;
  stateFile: string;
  /** Stops the master, makes sure its worker is gone, and removes the instance's files. */
  stop(): Promise<void>;
  /** Stops, then starts again from the same config (and whatever the state file holds). */
  restart(): Promise<void>;
  /**
   * `reload` on the master CLI: the master re-reads every config file and starts a new worker.
   * Resolves once the new worker answers and the old one has exited, so no later command can
   * reach the old one; throws (with HAProxy's stderr) when the new config is refused.
   */
  reload(): Promise<void>;
}

export interface HaproxyOptions {
  /** Further config files, loaded after the generated one as more `-f` (crossfade's servers file). */
  extraConfigFiles?: readonly string[];
  /** The frontend's default_backend when it is declared in an extra file rather than in `backends`. */
  defaultBackend?: string;
}


/** Starts HAProxy with a frontend routing to the first backend. */
export async function startHaproxy(name: string, backends: readonly BackendConfig[], options: HaproxyOptions = {}): Promise<HaproxyInstance> {
  const dir = mkdtempSync(join(tmpdir(), `crossfade-haproxy-${name}-`));
  const adminPort = await freePort();
  const frontendPort = await freePort();
  const stateFile = join(dir, 'server-state');
  const socketPath = join(dir, 'admin.sock');
  const configPath = join(dir, 'haproxy.cfg');
  const masterSocket = join(dir, 'master.sock');
  writeFileSync(configPath, configText({ adminPort, frontendPort, stateFile, socketPath, backends, defaultBackend: options.defaultBackend }));
  const configFiles = [configPath, ...(options.extraConfigFiles ?? [])];

  let running = await launch(configFiles, adminPort, masterSocket);
  return {
    proxy: { name, runtimeApi: `127.0.0.1:${adminPort}` },
    unixProxy: { name, runtimeApi: `unix:${socketPath}` },
    adminPort,
    frontendPort,
    stateFile,
    stop: async () => {
      await halt(running);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await halt(running);
      running = await launch(configFiles, adminPort, masterSocket);
    },
    reload: async () => {
      running = await reload(running, adminPort, masterSocket);
    },
  };
}

function configText(settings: { adminPort: number; frontendPort: number; stateFile: string; socketPath: string; backends: readonly BackendConfig[]; defaultBackend?: string | undefined }): string {
  const backendSections = settings.backends.flatMap((backend) => [
    `backend ${backend.name}`,
    `    balance ${backend.balance ?? 'roundrobin'}`,
    ...(backend.servers ?? []).map((server) => `    server ${server.name} ${server.address}:${server.port} weight ${server.weight}`),
  ]);
  return [
    'global',
    '    nbthread 1',
    `    stats socket ipv4@127.0.0.1:${settings.adminPort} level admin`,
    `    stats socket ${settings.socketPath} mode 600 level admin`,
    `    server-state-file ${settings.stateFile}`,
    'defaults',
    '    mode http',
    '    timeout connect 2s',
    '    timeout client 30s',
    '    timeout server 30s',
    '    option idle-close-on-response',
    '    load-server-state-from-file global',
    'frontend fe',
    `    bind 127.0.0.1:${settings.frontendPort}`,
    `    default_backend ${settings.defaultBackend ?? settings.backends[0]?.name ?? 'none'}`,
    ...backendSections,
    '',
  ].join('\n');
}

interface Running {
  master: ChildProcess;
  workerPid: number;
  exited: Promise<void>;
  /** What the master wrote to stderr so far (its config errors). */
  stderr(): string;
}

/** Starts `haproxy -W -S master.sock -f cfg [-f more]` and waits (a bounded number of tries) until its admin socket answers. */
async function launch(configFiles: readonly string[], adminPort: number, masterSocket: string): Promise<Running> {
  // Debian installs HAProxy in /usr/sbin, which a non-root PATH may lack.
  const env = { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin` };
  const master = spawn('haproxy', ['-W', '-S', `${masterSocket},mode,600`, ...configFiles.flatMap((file) => ['-f', file])], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  master.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let hasExited = false;
  const exited = new Promise<void>((done) => master.once('exit', () => done()));
  void exited.then(() => (hasExited = true));
  master.once('error', (error) => (stderr += String(error)));
  for (let attempt = 0; attempt < 200; attempt++) {
    if (hasExited) break;
    const info = await adminCommand(adminPort, 'show info').catch(() => '');
    const pid = /^Pid: (\d+)$/m.exec(info)?.[1];
    if (pid) return { master, workerPid: Number(pid), exited, stderr: () => stderr };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  master.kill('SIGKILL');
  throw new Error(`HAProxy did not start (${configFiles.join(', ')}):\n${stderr}`);
}

/** `reload` on the master CLI, then waits (bounded) for a new worker and for the old one to be gone. */
async function reload(running: Running, adminPort: number, masterSocket: string): Promise<Running> {
  const before = running.stderr().length;
  const ask = (): Promise<void> =>
    new Promise((done, fail) => {
      const socket = connect({ path: masterSocket });
      socket.on('connect', () => socket.end('reload\n'));
      socket.on('close', () => done());
      socket.on('error', fail);
      socket.resume();
    });
  for (let attempt = 1; ; attempt++) {
    // Refused only while the master re-executes itself after an earlier reload: ask again.
    const refused = await ask().then(() => false, () => true);
    if (!refused) break;
    if (attempt >= 100) throw new Error(`master CLI ${masterSocket} refused reload ${attempt} times`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const info = await adminCommand(adminPort, 'show info').catch(() => '');
    const pid = Number(/^Pid: (\d+)$/m.exec(info)?.[1]);
    if (pid && pid !== running.workerPid && !isAlive(running.workerPid)) return { ...running, workerPid: pid };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`HAProxy did not reload:\n${running.stderr().slice(before)}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function halt({ master, workerPid, exited }: Running): Promise<void> {
  if (master.exitCode === null && master.signalCode === null) {
    master.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
    if (!stopped) master.kill('SIGKILL');
  }
  // The master takes its worker down with it; if it died too abruptly to do so, the worker goes by PID.
  try {
    process.kill(workerPid, 'SIGKILL');
  } catch {
    // already gone: the usual case
  }
}

/** One line to an admin socket, by hand: the answer as HAProxy sent it. */
export function adminCommand(adminPort: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: adminPort });
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5_000, () => socket.destroy(new Error(`admin socket ${adminPort}: no answer to "${line}"`)));
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** `show servers state <backend>` by hand, as `{ server: [weight, admin flags] }`. */
export async function serversOf(adminPort: number, backend: string): Promise<Record<string, { weight: number; admin: number }>> {
  const answer = await adminCommand(adminPort, `show servers state ${backend}`);
  const rows = answer.split('\n').filter((row) => row !== '' && row !== '1' && !row.startsWith('#'));
  if (answer.startsWith("Can't find")) throw new Error(answer);
  return Object.fromEntries(rows.map((row) => row.split(' ')).map((f) => [f[3]!, { weight: Number(f[7]), admin: Number(f[6]) }]));
}

/**
 * What a backend serves, read back through the admin socket: each version's share of the serving
 * servers' weights in percent (`{ v1: 95, v2: 5 }`; server names are `<version>_<address>_<port>`),
 * and the weight each server serves with (0 unless it is ready).
 */
export async function sharesOf(adminPort: number, backend: string): Promise<{ shares: Record<string, number>; weights: Record<string, number> }> {
  const servers = await serversOf(adminPort, backend);
  const byVersion: Record<string, number> = {};
  const weights: Record<string, number> = {};
  let total = 0;
  for (const [name, { weight, admin }] of Object.entries(servers)) {
    const serving = admin === 0 ? weight : 0;
    const version = name.split('_')[0]!;
    byVersion[version] = (byVersion[version] ?? 0) + serving;
    weights[name] = serving;
    total += serving;
  }
  const shares = Object.fromEntries(Object.entries(byVersion).map(([version, weight]) => [version, total === 0 ? 0 : (100 * weight) / total]));
  return { shares, weights };
}

export interface RecordingRelay {
  /** The relay as a crossfade.yaml proxy, named `name`. */
  proxy: { name: string; runtimeApi: string };
  /** Every line sent through the relay, in order. */
  lines: string[];
  stop(): Promise<void>;
}

/** A TCP relay to an admin socket that records the lines crossfade sends. */
export async function startRecordingRelay(name: string, adminPort: number): Promise<RecordingRelay> {
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  // Half-open: the client sends its line and FIN at once, and must still get the answer.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: adminPort });
    sockets.add(client).add(upstream);
    let pending = '';
    client.on('data', (chunk) => {
      pending += chunk.toString();
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        lines.push(pending.slice(0, end));
        pending = pending.slice(end + 1);
      }
    });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    proxy: { name, runtimeApi: `127.0.0.1:${(server.address() as AddressInfo).port}` },
    lines,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((closed) => server.close(closed));
    },
  };
}

/**
 * Requests in one turn of HAProxy's round-robin wheel for `backend`: each server is chosen exactly
 * `weight × 16` times per turn (BE_WEIGHT_SCALE, src/lb_fwrr.c), so a turn is 16 × Σ weights.
 */
export async function wheelTurn(adminPort: number, backend: string): Promise<number> {
  const servers = await serversOf(adminPort, backend);
  return 16 * Object.values(servers).reduce((total, { weight, admin }) => total + (admin === 0 ? weight : 0), 0);
}
