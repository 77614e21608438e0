/**
 * What HAProxy needs on disk so a reload keeps crossfade's servers (docs/dataplane.md, measured on
 * 2.6): a reload re-reads the config, and `server-state-file` restores weights, addresses and
 * drain/maintenance only for servers the config declares. Servers added with `add server` are not
 * in any config, so they are lost. `saveServerState` therefore writes two files from one reading:
 *
 * - the servers file, a config fragment loaded as a second `-f`: every `cf_*` backend with one
 *   `server` line per current server (so the dynamic ones become config servers), at its current
 *   weight, `disabled` when in maintenance;
 * - the server-state file (`show servers state` of every backend), which restores the rest (drain
 *   has no config keyword). A stale one is applied again, so it is rewritten right before each reload.
 *
 * Both are written to a temporary file in the same directory, flushed and renamed: HAProxy, or a
 * crash, never sees half a file. Runs on the HAProxy host (cli/haproxy-state.ts).
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { isIP, isIPv4 } from 'node:net';
import { ConfigError, InternalError } from '../../domain/errors.js';
import { HaproxyRuntimeApi, type RuntimeApiProxy, type RuntimeApiSettings, type ServerState } from './runtime-api.js';

/**
 * The prefix haproxyBackendName gives crossfade's backends. Spelled out rather than imported, as
 * haproxy-router.ts imports this module (writeServerStateFile); the unit test pins the two together.
 */
const CROSSFADE_BACKEND = /^cf_[A-Za-z0-9_.:-]+$/;
/** configuration.txt §4: what a proxy or server name may contain. */
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;
const MAX_WEIGHT = 256;

export function isCrossfadeBackend(name: string): boolean {
  return CROSSFADE_BACKEND.test(name);
}

/**
 * The servers file: a declaration of every crossfade backend among `backends`, each with its rows
 * of `servers`; other backends are left to haproxy.cfg (declaring one twice is a config error).
 * Sorted by name, so the same state always gives the same text. Throws InternalError for a row
 * that would not parse as config (HAProxy's answer was not what crossfade writes).
 */
export function renderServersFile(backends: readonly string[], servers: readonly ServerState[]): string {
  const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const names = [...new Set(backends.filter(isCrossfadeBackend))].sort(byCodePoint);
  const sections = names.map((backend) => section(backend, servers.filter((server) => server.backend === backend).sort((a, b) => byCodePoint(a.server, b.server))));
  const header = [
    '# Written by `crossfade haproxy-state save` from the running HAProxy: do not edit, it is rewritten before every reload.',
    "# crossfade's backends and their current servers; haproxy.cfg routes to them but must not declare them.",
  ].join('\n');
  // Ends with a newline: 2.6 refuses a config whose last line has none ("Missing LF on last line", measured).
  return [header, ...sections].join('\n\n') + '\n';
}

function section(backend: string, rows: readonly ServerState[]): string {
  return [`backend ${backend}`, '    balance roundrobin', ...rows.map(serverLine)].join('\n');
}

function serverLine(row: ServerState): string {
  const where = `${row.backend}/${row.server}`;
  if (!HAPROXY_NAME.test(row.server)) throw new InternalError(`server ${JSON.stringify(where)} has a name HAProxy config cannot hold`);
  if (isIP(row.address) === 0) throw new InternalError(`server ${where} has address ${JSON.stringify(row.address)}, not an IP literal`);
  if (!Number.isInteger(row.port) || row.port < 1 || row.port > 65535) throw new InternalError(`server ${where} has port ${row.port}`);
  if (!Number.isInteger(row.weight) || row.weight < 0 || row.weight > MAX_WEIGHT) throw new InternalError(`server ${where} has weight ${row.weight}`);
  const address = isIPv4(row.address) ? row.address : `[${row.address}]`;
  // Drain has no config keyword: the state file restores it. `disabled` keeps a server that was in
  // maintenance out even if the state file is missing.
  return `    server ${row.server} ${address}:${row.port} weight ${row.weight}${row.admin === 'maint' ? ' disabled' : ''}`;
}

export interface ServerStateFiles {
  stateFile: string;
  serversFile: string;
}

/**
 * Reads the instance once and writes the servers file, then the state file (a servers file newer
 * than its state file is harmless: a server the state lacks starts as its line says). `seeds` are
 * backends to declare even when the instance has none of that name yet (a service being added).
 * Throws DependencyUnavailableError / ProxyCommandError before anything is written, ConfigError
 * when a file cannot be written (the previous one stays whole).
 */
export async function saveServerState(api: HaproxyRuntimeApi, files: ServerStateFiles, seeds: readonly string[] = []): Promise<{ backends: string[]; servers: number }> {
  const { backends, servers, dump } = await api.readServerState();
  const declared = [...new Set([...backends, ...seeds])].filter(isCrossfadeBackend).sort();
  const text = renderServersFile(declared, servers);
  await writeAtomically(files.serversFile, text, 0o644, 'servers file');
  await writeAtomically(files.stateFile, dump, 0o600, 'server state file');
  return { backends: declared, servers: servers.filter((server) => isCrossfadeBackend(server.backend)).length };
}

/**
 * Before HAProxy starts (first start, or a service added since the last save): makes the servers
 * file declare each of `backends`, so haproxy.cfg's `use_backend` lines resolve. A missing file is
 * written with them empty; an existing one keeps every declaration it has (saved servers) and
 * gets the missing ones appended, empty. Returns the backends it added.
 */
export async function seedServersFile(path: string, backends: readonly string[]): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`cannot read the servers file ${path}: ${(error as Error).message}`, 'servers-file');
    const added = [...new Set(backends.filter(isCrossfadeBackend))].sort();
    await writeAtomically(path, renderServersFile(added, []), 0o644, 'servers file');
    return added;
  }
  // The file is one this module wrote, so its declarations are exactly its `backend <name>` lines.
  const declared = new Set([...text.matchAll(/^backend (\S+)$/gm)].map((match) => match[1]));
  const added = [...new Set(backends.filter((name) => isCrossfadeBackend(name) && !declared.has(name)))].sort();
  if (added.length > 0) await writeAtomically(path, `${text.replace(/\n*$/, '\n')}\n${added.map((name) => section(name, [])).join('\n\n')}\n`, 0o644, 'servers file');
  return added;
}

/**
 * Dumps `show servers state` of `proxy` to `path`, so the next reload keeps runtime weights,
 * addresses and drain/maintenance states of the servers its config declares. Needs
 * `server-state-file <path>` in `global` and `load-server-state-from-file global` in `defaults`.
 * Call it right before every reload, since a stale file is applied again (docs/dataplane.md).
 */
export async function writeServerStateFile(proxy: RuntimeApiProxy, path: string, settings: RuntimeApiSettings = {}): Promise<void> {
  const state = await new HaproxyRuntimeApi(proxy, settings).dumpServersState();
  await writeAtomically(path, state, 0o600, 'server state file');
}

/** Same directory, so the rename is atomic; flushed first, so a crash after the rename finds the whole file. */
async function writeAtomically(path: string, text: string, mode: number, what: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  try {
    const file = await open(temporary, 'wx', mode);
    try {
      await file.writeFile(text);
      // open's mode is reduced by the umask; the file gets exactly `mode`.
      await file.chmod(mode);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new ConfigError(`cannot write the ${what} ${path}: ${(error as Error).message}`, what.replaceAll(' ', '-'));
  }
}
