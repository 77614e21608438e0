/**
 * `npm start` as a real process for integration tests: `tsx local/main.ts` spawned directly (so the
 * PID a test kills is the server's), its output collected, and polling helpers. The test process's
 * own CROSSFADE_* settings (other suites point them at DynamoDB Local) stay out of the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface LocalProcess {
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Its exit code; null when a signal ended it (then `child.signalCode` names it). */
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** @param env added to this process's environment; a variable set to undefined is left out. */
export function startLocalProcess(env: Record<string, string | undefined>): LocalProcess {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CROSSFADE_')));
  const merged = Object.entries({ ...inherited, ...env }).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    env: Object.fromEntries(merged),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

/** SIGKILLs every process started here that still runs (an afterEach: a failed test leaves none behind). */
export function killLocalProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Stops it as an operator would (SIGTERM) and waits for its exit code. */
export async function stopLocalProcess(started: LocalProcess): Promise<number | null> {
  started.child.kill('SIGTERM');
  return started.exited;
}

/** Waits until the output matches `pattern`; throws with the output when the process exits first or time runs out. */
export async function waitForOutput(started: LocalProcess, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (started.child.exitCode !== null || started.child.signalCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls `condition` every 100 ms until it holds; throws after `timeoutMs` (a bound, never an assertion on time). */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
