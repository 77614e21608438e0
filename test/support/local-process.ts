/**
 * `npm start` as real processes for integration tests: `tsx local/main.ts` spawned directly (so the
 * PID a test signals is the server's), its output collected, and bounded waits on what it prints or
 * serves. The test process's own CROSSFADE_* settings (other suites point them at DynamoDB Local)
 * stay out of the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';

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
