/**
 * `crossfade haproxy-state save|init`, run on the HAProxy host: crossfade's functions reach the
 * Runtime API over the network and cannot write files there, and a reload keeps servers only
 * through files (shared/adapters/haproxy/server-state.ts; docs/dataplane.md "HAProxy reloads").
 *
 * - `save` reads the running instance and writes the servers file and the server-state file; run
 *   it before every reload (systemd ExecReload=). With `--every <seconds>` it keeps saving until
 *   SIGINT/SIGTERM, so a crash-restart (no ExecReload) loses at most that interval; a failed save
 *   is logged and retried at the next one, the last good files staying in place.
 * - `init`, before HAProxy starts (systemd ExecStartPre=): makes the servers file declare every
 *   `--backend`, empty when it is new, keeping what a save wrote. The first start has nothing to
 *   save, and haproxy.cfg's `use_backend cf_<service>` needs the backend declared.
 *
 * Pass the same `--backend` list (every cf_ backend haproxy.cfg routes to) to `init` and `save`:
 * `save` declares the backends the running HAProxy has plus those, so a service added to
 * haproxy.cfg is declared by the save that runs before the reload bringing it in.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { haproxyBackendName } from '../shared/adapters/haproxy/haproxy-router.js';
import { HaproxyRuntimeApi, type RuntimeApiSettings } from '../shared/adapters/haproxy/runtime-api.js';
import { saveServerState, seedServersFile } from '../shared/adapters/haproxy/server-state.js';
import { isServiceName, SERVICE_NAME_RULE } from '../shared/domain/names.js';
import type { Logger } from '../shared/ports/logger.js';

export const HAPROXY_STATE_USAGE = `usage: crossfade haproxy-state save --socket <path|127.0.0.1:port> --state-file <path> --servers-file <path> [--backend cf_<service> ...] [--every <seconds>]
       crossfade haproxy-state init --servers-file <path> --backend cf_<service> [--backend cf_<service> ...]`;

export interface HaproxyStateOptions {
  logger: Logger;
  /** Ends `--every` (between saves; a save under way finishes first). */
  signal?: AbortSignal;
  settings?: RuntimeApiSettings;
}

/**
 * Runs the subcommand: 0 when done (or stopped), 1 when `init` or a single save failed (logged;
 * each file is then either untouched or whole and new). Throws on bad arguments, which main.ts
 * turns into a usage error.
 */
export async function runHaproxyState(args: string[], options: HaproxyStateOptions): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'save' && subcommand !== 'init') throw new Error(`unknown subcommand ${subcommand ?? '(none)'}: save or init`);
  // One set of options for both, so a systemd unit can pass the same file options to each (init ignores the others).
  const { values } = parseArgs({
    args: rest,
    options: {
      socket: { type: 'string' },
      'state-file': { type: 'string' },
      'servers-file': { type: 'string' },
      backend: { type: 'string', multiple: true },
      every: { type: 'string' },
    },
    strict: true,
  });
  const backends = (values.backend ?? []).map(checkBackend);
  const serversFile = required(values['servers-file'], '--servers-file');
  const { logger } = options;

  if (subcommand === 'init') {
    if (backends.length === 0) throw new Error('--backend is required at least once: the backends haproxy.cfg routes to');
    try {
      const added = await seedServersFile(serversFile, backends);
      logger.info(added.length > 0 ? 'haproxy servers file: empty backends declared' : 'haproxy servers file already declares every backend', { serversFile, added });
      return 0;
    } catch (error) {
      logger.error('haproxy servers file not written', { serversFile, error: (error as Error).message });
      return 1;
    }
  }

  const stateFile = required(values['state-file'], '--state-file');
  const socket = required(values.socket, '--socket');
  const api = new HaproxyRuntimeApi({ name: 'local', runtimeApi: socket.startsWith('/') ? `unix:${socket}` : socket }, options.settings);
  const save = async (): Promise<boolean> => {
    try {
      const saved = await saveServerState(api, { stateFile, serversFile }, backends);
      logger.info('haproxy state saved', { stateFile, serversFile, ...saved });
      return true;
    } catch (error) {
      logger.error('haproxy state not saved', { socket, error: (error as Error).message });
      return false;
    }
  };

  if (values.every === undefined) return (await save()) ? 0 : 1;
  const everySeconds = Number(values.every);
  if (!Number.isFinite(everySeconds) || everySeconds < 0.05 || everySeconds > 86_400) throw new Error(`--every must be a number of seconds from 0.05 to 86400, got ${values.every}`);
  logger.info('saving haproxy state periodically', { everySeconds, stateFile, serversFile });
  while (!options.signal?.aborted) {
    await save();
    await sleep(everySeconds * 1000, undefined, { signal: options.signal }).catch(() => undefined);
  }
  logger.info('stopped saving haproxy state');
  return 0;
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new Error(`${flag} is required`);
  return value;
}

/** `cf_<service>`, as haproxyBackendName makes it: any other name is not crossfade's to declare. */
function checkBackend(name: string): string {
  const service = name.slice(name.indexOf('_') + 1);
  if (!isServiceName(service) || haproxyBackendName(service) !== name) throw new Error(`--backend ${name} must be cf_<service>, the service ${SERVICE_NAME_RULE}`);
  return name;
}
