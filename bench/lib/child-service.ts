/**
 * A bench module run as a long-lived service in a Node process of its own (this same binary,
 * through tsx), for scenarios that measure several configurations side by side: the child prints
 * one JSON line when it is ready (its URL, its token), serves until the parent writes `stop` on its
 * stdin, then prints one last JSON line (what it saw) and exits. The parent talks to it over HTTP
 * meanwhile. A child that does not answer in time is SIGKILLed: a runaway must not hang the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { benchChildEnv } from './child-json.js';

export interface ChildServiceOptions {
  /** Path of the .ts module to run (it calls serveAsChild). */
  script: string;
  args: readonly string[];
  cwd: string;
  /** SIGKILL after this long, from start to exit. */
  timeoutMs: number;
}

export interface ChildService<Ready, Final> {
  ready: Ready;
  /** Asks the child to stop and resolves with its last line; rejects if it exits without one. */
  stop(): Promise<Final>;
}

export function startChildService<Ready, Final>(options: ChildServiceOptions): Promise<ChildService<Ready, Final>> {
  const child = spawn(process.execPath, ['--import', 'tsx', options.script, ...options.args], { cwd: options.cwd, env: benchChildEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  const exited = new Promise<string>((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? `killed after ${options.timeoutMs} ms` : `exited with ${code ?? signal}`);
      for (const next of waiting.splice(0)) next(undefined);
    }),
  );
  const nextLine = (): Promise<string | undefined> => (lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiting.push(resolve)));
  const failure = async (what: string) => new Error(`${options.script} ${options.args.join(' ')}: ${what}: ${await exited}: ${stderr.trim().slice(-1500)}`);

  return (async () => {
    const readyLine = await nextLine();
    if (readyLine === undefined) throw await failure('no ready line');
    return {
      ready: JSON.parse(readyLine) as Ready,
      async stop() {
        askToStop(child);
        const finalLine = await nextLine();
        if (finalLine === undefined) throw await failure('no final line');
        await exited;
        return JSON.parse(finalLine) as Final;
      },
    };
  })().catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
}

function askToStop(child: ChildProcess): void {
  if (child.exitCode === null && child.stdin!.writable) child.stdin!.end('stop\n');
}

/**
 * The child's half: prints `ready`, serves until the parent says stop (or closes stdin), then runs
 * `finish` and prints its result. The process then exits at once: a stopped stack's late timers
 * must neither turn the figures into a failure nor keep the process alive.
 */
export async function serveAsChild<Ready, Final>(start: () => Promise<{ ready: Ready; finish(): Promise<Final> }>): Promise<never> {
  const service = await start();
  process.stdout.write(`${JSON.stringify(service.ready)}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.on('data', (chunk: Buffer) => chunk.toString().includes('stop') && resolve());
    process.stdin.on('end', () => resolve());
  });
  const result = await service.finish();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.on('uncaughtException', () => process.exit(0));
  process.exit(0);
}
