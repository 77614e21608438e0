/**
 * Crash points for the chaos tests (shared/ports/crash-points.ts): the process SIGKILLs itself, for
 * real, at the named points. `CROSSFADE_CRASH_AT` lists them (comma-separated); an entry matches a
 * point of that name or any point under it (`task:hold` matches `task:hold:start:step2`). Each entry
 * fires once: it is written (and synced) to `CROSSFADE_CRASH_LEDGER` before the kill, and entries
 * found there are skipped, so a test can restart the same command until the run ends and count
 * the kills in the ledger. Unset: nothing is wired and nothing is ever killed.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import type { CrashPoints } from '../shared/ports/crash-points.js';

export function crashPointsFromEnv(env: Record<string, string | undefined>): CrashPoints | undefined {
  const spec = env['CROSSFADE_CRASH_AT'];
  const ledger = env['CROSSFADE_CRASH_LEDGER'];
  if (!spec || !ledger) return undefined;
  const fired = new Set(existsSync(ledger) ? readFileSync(ledger, 'utf8').split('\n').filter(Boolean).map((line) => line.split(' ')[0]) : []);
  const armed = spec.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '' && !fired.has(entry));
  return {
    reached(name) {
      const entry = armed.find((candidate) => name === candidate || name.startsWith(`${candidate}:`));
      if (entry === undefined) return;
      const fd = openSync(ledger, 'a');
      appendFileSync(fd, `${entry} ${name}\n`);
      fsyncSync(fd);
      closeSync(fd);
      process.kill(process.pid, 'SIGKILL');
    },
  };
}
