/**
 * Runs a TypeScript module of the bench in a fresh Node process (this same binary, through tsx) and
 * reads the one JSON line it prints last: for figures that must not share a heap with anything
 * else, such as a peak RSS. The child gets the parent's environment minus NODE_OPTIONS, so what it
 * loads is exactly what its command line says.
 */
import { spawn } from 'node:child_process';

export interface ChildJsonOptions {
  /** Path of the .ts module to run. */
  script: string;
  args: readonly string[];
  /** Node flags before the module (`--expose-gc`, `--max-old-space-size=…`). */
  nodeFlags?: readonly string[];
  cwd: string;
  /** SIGKILL after this long: a runaway child must not hang the bench. */
  timeoutMs: number;
}

export function runChildJson<T>(options: ChildJsonOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    const env = benchChildEnv();
    const args = [...(options.nodeFlags ?? []), '--import', 'tsx', options.script, ...options.args];
    const child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        const why = signal === 'SIGKILL' ? `killed after ${options.timeoutMs} ms` : `exited with ${code ?? signal}`;
        reject(new Error(`${options.script} ${options.args.join(' ')}: ${why}: ${stderr.trim().slice(-1500)}`));
        return;
      }
      resolve(JSON.parse(line) as T);
    });
  });
}

/** A bench child's environment: the parent's, quiet, without NODE_OPTIONS (it could load tsx twice, or time it). */
export function benchChildEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, CROSSFADE_LOG_LEVEL: 'silent' };
  delete env['NODE_OPTIONS'];
  return env;
}
