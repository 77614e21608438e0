/**
 * Runs the real watch (cli/watch/watch.ts) on stdout against a crossfade, as `crossfade watch` will:
 * `node --import tsx test/support/watch-driver.ts <url> <token> <deployment id> [--tty] [--color]
 * [--interval-ms N]`. Exits with the deployment's exit code (cli/exit-codes.ts), or prints
 * `crossfade: <error name>: <message>` and exits 5 when the watch throws. Tests run it under a
 * pseudo-terminal (`script`) or on a pipe.
 */
import { exitCodeOfStatus } from '../../cli/exit-codes.js';
import { watchDeployment } from '../../cli/watch/watch.js';
import { HttpTransport } from '../../cli/transport/http.js';

const [url, token, id, ...flags] = process.argv.slice(2);
if (!url || !token || !id) {
  console.error('usage: watch-driver.ts <url> <token> <deployment id> [--tty] [--color] [--interval-ms N]');
  process.exit(2);
}
const interval = flags.indexOf('--interval-ms');
try {
  const last = await watchDeployment(new HttpTransport({ url, token }), id, {
    out: process.stdout,
    tty: flags.includes('--tty'),
    color: flags.includes('--color'),
    ...(interval >= 0 ? { intervalMs: Number(flags[interval + 1]) } : {}),
  });
  process.exitCode = exitCodeOfStatus(last.status);
} catch (error) {
  console.error(`crossfade: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  process.exitCode = 5;
}
