/**
 * A client of HAProxy's Runtime API (management.txt §9.3): one connection per call, one line of
 * commands joined by "; ", the answer read to EOF (a non-interactive session runs one line and
 * closes). The socket has no authentication, so only unix sockets and loopback or private
 * addresses are accepted (docs/dataplane.md).
 *
 * HAProxy runs every command of a line even after one fails, so each command says which answers
 * mean success. Answers are told apart by the interactive prompt: 2.6 ends most answers with an
 * empty line but not all (`del server`, and several `add server` refusals, end without one;
 * measured), so the empty line cannot delimit them. Starting the line with `prompt` makes HAProxy
 * print "> " after every command of the line, whatever the command printed.
 */
import { lookup } from 'node:dns/promises';
import { connect, isIP, isIPv4, type Socket } from 'node:net';
import { ConfigError, DependencyUnavailableError, InternalError, ProxyCommandError } from '../../domain/errors.js';

/** A proxy as crossfade.yaml names it: `runtimeApi` is `host:port`, `[ipv6]:port` or `unix:/path`. */
export interface RuntimeApiProxy {
  name: string;
  runtimeApi: string;
}

export interface RuntimeApiSettings {
  /** Per attempt, from opening the connection to the end of the answer. */
  timeoutMs?: number;
  /** Attempts to connect. Only failures before the line is sent are retried: after, HAProxy may have run part of it. */
  connectAttempts?: number;
  /** Wait before the second attempt; doubles before each further one. */
  retryDelayMs?: number;
}

export interface RuntimeCommand {
  line: string;
  /** Whether `answer` (the command's output, without its closing empty line) means it succeeded. */
  accepts(answer: string): boolean;
}

/** One row of `show servers state` (format 1): the runtime view of a server. */
export interface ServerState {
  backend: string;
  server: string;
  address: string;
  port: number;
  /** srv_uweight: the weight in force, set at runtime or from the config. */
  weight: number;
  /** 'maint' and 'drain' take no new traffic (admin flags: FMAINT 0x01, IMAINT 0x02, RMAINT 0x20; FDRAIN 0x08, IDRAIN 0x10). */
  admin: 'ready' | 'drain' | 'maint';
}

/**
 * HAProxy's own SRV_ADMF_MAINT (0x23, include/haproxy/server-t.h). CMAINT 0x04 only records that the
 * config says `disabled`: it stays after `set server … state ready`, and such a server serves
 * (measured on 2.6.12). HMAINT 0x40 only records that the CLI set the server's FQDN.
 */
const ADMIN_MAINT_FLAGS = 0x01 | 0x02 | 0x20;
const ADMIN_DRAIN_FLAGS = 0x08 | 0x10;
const STILL_HAS_CONNECTIONS = 'Server still has connections attached to it, cannot remove it.';
const succeedsSilently = (answer: string): boolean => answer === '';

/** The commands crossfade sends; names and addresses reach here already validated. */
export const runtimeCommands = {
  /** "# name", then one backend per line, with or without servers. */
  showBackends: (): RuntimeCommand => ({
    line: 'show backend',
    accepts: (answer) => answer.startsWith('# name'),
  }),
  showServersState: (backend?: string): RuntimeCommand => ({
    line: backend === undefined ? 'show servers state' : `show servers state ${backend}`,
    accepts: (answer) => answer.startsWith('1\n# '),
  }),
  /** The server starts in maintenance: it takes traffic only after `setState(…, 'ready')`. */
  addServer: (backend: string, server: string, address: string, port: number, weight: number): RuntimeCommand => ({
    line: `add server ${backend}/${server} ${isIPv4(address) ? address : `[${address}]`}:${port} weight ${weight}`,
    accepts: (answer) => answer === 'New server registered.',
  }),
  setWeight: (backend: string, server: string, weight: number): RuntimeCommand => ({
    line: `set server ${backend}/${server} weight ${weight}`,
    accepts: succeedsSilently,
  }),
  setState: (backend: string, server: string, state: ServerState['admin']): RuntimeCommand => ({
    line: `set server ${backend}/${server} state ${state}`,
    accepts: succeedsSilently,
  }),
  setAddress: (backend: string, server: string, address: string, port: number): RuntimeCommand => ({
    line: `set server ${backend}/${server} addr ${address} port ${port}`,
    accepts: (answer) => /^(IP changed|no need to change)/.test(answer),
  }),
  /** Also accepts a server that still has connections (it stays, in maintenance, for a later call) or is already gone. */
  deleteServer: (backend: string, server: string): RuntimeCommand => ({
    line: `del server ${backend}/${server}`,
    accepts: (answer) => answer === 'Server deleted.' || answer === STILL_HAS_CONNECTIONS || answer === 'No such server.',
  }),
};

export class HaproxyRuntimeApi {
  /** How errors name this proxy: "HAProxy edge-1 at 10.0.0.5:9999". */
  readonly dependency: string;
  private readonly address: RuntimeAddress;
  private readonly timeoutMs: number;
  private readonly connectAttempts: number;
  private readonly retryDelayMs: number;

  /** Throws ConfigError when the address is malformed or a public IP. */
  constructor(proxy: RuntimeApiProxy, settings: RuntimeApiSettings = {}) {
    this.dependency = `HAProxy ${proxy.name} at ${proxy.runtimeApi}`;
    this.address = parseRuntimeAddress(proxy);
    this.timeoutMs = settings.timeoutMs ?? 2_000;
    this.connectAttempts = Math.max(1, settings.connectAttempts ?? 3);
    this.retryDelayMs = settings.retryDelayMs ?? 100;
  }

  /**
   * Sends `commands` as one line and returns each one's answer. Throws DependencyUnavailableError
   * (with `verb`) when the proxy cannot be reached or its answer ends early, ProxyCommandError for
   * the first command whose answer is a refusal (the others of the line have run regardless).
   */
  async run(commands: readonly RuntimeCommand[], verb: string): Promise<string[]> {
    if (commands.length === 0) return [];
    for (const { line } of commands) {
      if (/[;\n\r]/.test(line)) throw new InternalError(`Runtime API command would break the line: ${JSON.stringify(line)}`);
    }
    const response = await this.exchange(['prompt', ...commands.map(({ line }) => line)].join('; '), verb);
    const answers = splitAnswers(response, commands.length);
    if (!answers) throw new DependencyUnavailableError(this.dependency, verb, { cause: new Error(`the answer ended early: ${JSON.stringify(response.slice(-200))}`) });
    commands.forEach((command, index) => {
      if (!command.accepts(answers[index]!)) throw new ProxyCommandError(this.dependency, command.line, answers[index] || '(no answer)');
    });
    return answers;
  }

  /** The servers of `backend`. Throws ProxyCommandError when the backend does not exist ("Can't find backend."). */
  async showServersState(backend: string): Promise<ServerState[]> {
    const [answer] = await this.run([runtimeCommands.showServersState(backend)], `read servers of backend ${backend}`);
    return parseServersState(answer!, this.dependency);
  }

  /** `show servers state` of every backend, as HAProxy reads it back from `server-state-file`. */
  async dumpServersState(): Promise<string> {
    const [answer] = await this.run([runtimeCommands.showServersState()], 'dump server state');
    return `${answer!}\n`;
  }

  /**
   * Every backend (`show backend`: a backend without servers has no row in the state) and every
   * server, read in one line so both come from the same moment; `dump` as `dumpServersState` gives it.
   */
  async readServerState(): Promise<{ backends: string[]; servers: ServerState[]; dump: string }> {
    const [backends, state] = await this.run([runtimeCommands.showBackends(), runtimeCommands.showServersState()], 'read backends and server state');
    return { backends: backends!.split('\n').slice(1).filter((name) => name !== ''), servers: parseServersState(state!, this.dependency), dump: `${state!}\n` };
  }

  private async exchange(line: string, verb: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(line);
      } catch (failure) {
        if (!(failure instanceof AttemptFailure)) throw failure;
        if (!failure.beforeSending || attempt >= this.connectAttempts) {
          const cause = new Error(`${failure.cause.message} (attempt ${attempt} of ${this.connectAttempts})`, { cause: failure.cause });
          throw new DependencyUnavailableError(this.dependency, verb, { cause: Object.assign(cause, { name: failure.cause.name }) });
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  private async once(line: string): Promise<string> {
    const target = await this.resolve();
    return new Promise<string>((resolve, reject) => {
      let sent = false;
      let answer = '';
      const socket: Socket = target.kind === 'unix' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
      const fail = (cause: Error): void => {
        socket.destroy();
        reject(new AttemptFailure(!sent, cause));
      };
      const timer = setTimeout(() => fail(Object.assign(new Error(`no complete answer within ${this.timeoutMs} ms`), { name: 'TimeoutError' })), this.timeoutMs);
      socket.setEncoding('utf8');
      socket.on('connect', () => {
        sent = true;
        socket.end(`${line}\n`);
      });
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('end', () => {
        clearTimeout(timer);
        resolve(answer);
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        fail(error);
      });
    });
  }

  /** Hostnames are resolved on every call and must still land on a loopback or private address. */
  private async resolve(): Promise<{ kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number }> {
    if (this.address.kind === 'unix' || isIP(this.address.host) !== 0) return this.address;
    let resolved: string;
    try {
      resolved = (await lookup(this.address.host)).address;
    } catch (error) {
      throw new AttemptFailure(true, error as Error);
    }
    if (!isLoopbackOrPrivate(resolved)) throw new ConfigError(`${this.dependency}: ${this.address.host} resolves to ${resolved}, which is neither loopback nor private`);
    return { kind: 'tcp', host: resolved, port: this.address.port };
  }
}

class AttemptFailure extends Error {
  constructor(
    readonly beforeSending: boolean,
    override readonly cause: Error,
  ) {
    super(cause.message);
  }
}

type RuntimeAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

function parseRuntimeAddress({ name, runtimeApi }: RuntimeApiProxy): RuntimeAddress {
  const key = `proxyGroups.proxies.${name}.runtimeApi`;
  if (runtimeApi.startsWith('unix:/')) return { kind: 'unix', path: runtimeApi.slice('unix:'.length) };
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(runtimeApi);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) throw new ConfigError(`${key} "${runtimeApi}" must be host:port, [ipv6]:port or unix:/path`, key);
  const host = match[1] ?? match[2]!;
  if (isIP(host) !== 0 && !isLoopbackOrPrivate(host)) {
    throw new ConfigError(`${key} ${host} is neither loopback nor private: the Runtime API has no authentication`, key);
  }
  return { kind: 'tcp', host, port };
}

/** 127/8, 10/8, 172.16/12, 192.168/16, 100.64/10 (shared address space some VPCs use), ::1, fc00::/7. */
export function isLoopbackOrPrivate(ip: string): boolean {
  if (isIPv4(ip)) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const lower = ip.toLowerCase();
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return isLoopbackOrPrivate(lower.slice(7));
  return lower === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(lower);
}

/**
 * The answers of `count` commands sent after `prompt`: "\n> " (prompt's own empty answer), then each
 * answer followed by a newline and "> ". Undefined when the response ends before the last prompt.
 */
function splitAnswers(response: string, count: number): string[] | undefined {
  const parts = response.split('\n> ');
  if (parts.length < count + 2) return undefined;
  return parts.slice(1, count + 1).map((answer) => answer.replace(/\n+$/, ''));
}

/** Parses `show servers state` format 1 by its header, so columns added by later versions are ignored. */
function parseServersState(answer: string, dependency: string): ServerState[] {
  const [formatVersion, header = '', ...rows] = answer.split('\n').filter((row) => row !== '');
  if (formatVersion !== '1' || !header.startsWith('# ')) throw new InternalError(`${dependency}: unexpected server state format: ${JSON.stringify(answer.slice(0, 120))}`);
  const columns = header.slice(2).split(' ');
  const at = (name: string): number => {
    const index = columns.indexOf(name);
    if (index < 0) throw new InternalError(`${dependency}: server state has no column ${name}`);
    return index;
  };
  const index = { backend: at('be_name'), server: at('srv_name'), address: at('srv_addr'), admin: at('srv_admin_state'), weight: at('srv_uweight'), port: at('srv_port') };
  return rows.map((row) => {
    const fields = row.split(' ');
    if (fields.length < columns.length) throw new InternalError(`${dependency}: short server state row: ${JSON.stringify(row)}`);
    const admin = Number(fields[index.admin]);
    return {
      backend: fields[index.backend]!,
      server: fields[index.server]!,
      address: fields[index.address]!,
      port: Number(fields[index.port]),
      weight: Number(fields[index.weight]),
      admin: admin & ADMIN_MAINT_FLAGS ? 'maint' : admin & ADMIN_DRAIN_FLAGS ? 'drain' : 'ready',
    };
  });
}
