/**
 * `npm start` as real processes for integration tests: `tsx local/main.ts` spawned directly (so the
 * PID a test signals is the server's), its output collected, and bounded waits on what it prints or
 * serves. The test process's own CROSSFADE_* settings (other suites point them at DynamoDB Local)
 * stay out of the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface LocalProcess {
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Its exit code (null when a signal ended it: `child.signalCode` says which). */
  exited: Promise<number | null>;
}

/** Processes started by one suite (or one chain of a suite), killed together when it ends. */
export class LocalProcesses {
  private readonly started: ChildProcess[] = [];

  /** @param env added to this process's environment; a variable set to undefined is left out. */
  start(env: Record<string, string | undefined>): LocalProcess {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CROSSFADE_')));
    const merged = Object.entries({ ...inherited, ...env }).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], { env: Object.fromEntries(merged), stdio: ['ignore', 'pipe', 'pipe'] });
    this.started.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  }

  /** SIGKILLs every process still running (an afterEach: a failed test leaves none behind). */
  killAll(): void {
    for (const child of this.started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** The processes of suites that need no grouping of their own. */
const everyProcess = new LocalProcesses();

export function startLocalProcess(env: Record<string, string | undefined>): LocalProcess {
  return everyProcess.start(env);
}

export function killLocalProcesses(): void {
  everyProcess.killAll();
}

/** Stops it as an operator would (SIGTERM) and waits for its exit code. */
export async function stopLocalProcess(started: LocalProcess): Promise<number | null> {
  started.child.kill('SIGTERM');
  return started.exited;
}

export function hasExited(started: LocalProcess): boolean {
  return started.child.exitCode !== null || started.child.signalCode !== null;
}

/** The first match of `pattern` in the output; throws with the output when the process ends or `timeoutMs` passes first. */
export async function waitForOutput(started: LocalProcess, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (hasExited(started) || Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${started.output()}`);
    await sleep(50);
  }
}

/** Polls `condition` every 100 ms until it holds; throws after `timeoutMs` (a bound, never an assertion on time). */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface StartedStack {
  process: LocalProcess;
  /** http://127.0.0.1:<port> */
  url: string;
  /** The temporary directory holding crossfade.json and the data directory. */
  dir: string;
}

export interface StackOptions {
  /** Names the temporary directory (`crossfade-<label>-…`). */
  label: string;
  /** Written as the stack's crossfade.json. */
  config: unknown;
  adminToken: string;
  /** More environment (waits, retries, secrets); set after the defaults, so it may override them. */
  env?: Record<string, string>;
  listenTimeoutMs?: number;
}

/**
 * `npm start` as a test needs it: a fresh data directory, `config` as its crossfade.json, a free
 * port, quiet logs and no scheduled reconciliation (CROSSFADE_RECONCILE_SECONDS=0: a test asks for
 * what it checks); resolves once it listens. One that does not listen in time is killed.
 */
export async function startStack(options: StackOptions): Promise<StartedStack> {
  const dir = mkdtempSync(join(tmpdir(), `crossfade-${options.label}-`));
  writeFileSync(join(dir, 'crossfade.json'), JSON.stringify(options.config));
  const port = await freePort();
  const started = startLocalProcess({
    CROSSFADE_DATA_DIR: join(dir, 'data'),
    CROSSFADE_CONFIG: join(dir, 'crossfade.json'),
    CROSSFADE_ADMIN_TOKEN: options.adminToken,
    CROSSFADE_LOG_LEVEL: 'warn',
    CROSSFADE_RECONCILE_SECONDS: '0',
    PORT: String(port),
    ...options.env,
  });
  try {
    await waitForOutput(started, /crossfade listening on /, options.listenTimeoutMs ?? 60_000);
  } catch (error) {
    started.child.kill('SIGKILL');
    throw error;
  }
  return { process: started, url: `http://127.0.0.1:${port}`, dir };
}
