/**
 * Cold start as a fresh process sees it: spawn this same Node binary, import one module, and let
 * the child time the import itself (performance.now() around `await import(url)`), so process
 * start-up and the parent's spawn cost stay out of that figure. The parent also times the whole
 * process, spawn to exit; the same harness with nothing to import is the empty-process baseline.
 */
import { spawn } from 'node:child_process';
import { startTimer } from './timing.js';

/**
 * Runs as `node --input-type=module -e HARNESS [url [preload]]`: argv[1] is the module to import,
 * if any; argv[2] a module imported first, untimed (what the platform has loaded before our module).
 */
const HARNESS = `
const url = process.argv[1];
if (process.argv[2]) await import(process.argv[2]);
const started = performance.now();
if (url) await import(url);
const importMs = performance.now() - started;
process.stdout.write(JSON.stringify({ importMs, node: process.version }) + '\\n');
`;

export interface FreshImport {
  /** Inside the child: `await import(url)` only. 0 for the empty baseline. */
  importMs: number;
  /** In the parent: spawn() to the child's exit. */
  processMs: number;
  node: string;
}

export interface FreshImportOptions {
  /** file: URL of the module; undefined runs the empty baseline. */
  url: string | undefined;
  /** file: URL of a module to import before the timed import, untimed. */
  preload?: string;
  cwd: string;
  env: Record<string, string | undefined>;
  /** A module whose import leaves a handle open would otherwise hang the bench. */
  timeoutMs: number;
}

export function importInFreshNode(options: FreshImportOptions): Promise<FreshImport> {
  return new Promise((resolve, reject) => {
    const elapsed = startTimer();
    const args = ['--input-type=module', '-e', HARNESS, ...(options.url ? [options.url] : []), ...(options.url && options.preload ? [options.preload] : [])];
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let processMs = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'exit' is when the process ended; 'close' (later) is when its output has all arrived.
    child.once('exit', () => (processMs = elapsed()));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        const why = signal === 'SIGKILL' ? `killed after ${options.timeoutMs} ms (did the import leave something running?)` : `exited with ${code ?? signal}`;
        reject(new Error(`importing ${options.url ?? '(nothing)'} in a fresh node: ${why}: ${stderr.trim().slice(-1000)}`));
        return;
      }
      const reported = JSON.parse(line) as { importMs: number; node: string };
      resolve({ importMs: reported.importMs, processMs, node: reported.node });
    });
  });
}
