/**
 * The `crossfade` command (`npx crossfade …`, `npm run crossfade -- …`; docs/cli.md). Talks to
 * crossfade's API: deploy, get, list, watch, events, promote, pause, resume, rollback, cancel,
 * services, register, deregister, reconcile, `policy check`, and `config` for the contexts file. Beside them the
 * host tools: `token`, which makes an API token and the crossfade.yaml entry that grants it (the
 * token is printed once and stored nowhere; the configuration keeps only its sha256);
 * `xds-server`; and `haproxy-state`, for HAProxy hosts.
 */
import { parseArgs } from 'node:util';
import { Command, CommanderError } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { ConfigError } from '../shared/domain/errors.js';
import { parseScope } from '../shared/domain/scopes.js';
import { generateToken, hashToken } from '../shared/http/auth.js';
import { actionFor } from './commands/action.js';
import { configCommands } from './commands/config.js';
import { deploymentCommands } from './commands/deployments.js';
import { policyCommands } from './commands/policy.js';
import { serviceCommands } from './commands/services.js';
import { ExitCode } from './exit-codes.js';
import { describeError, exitCodeOfError } from './failure.js';
import { Session, type GlobalFlags, type Io } from './session.js';

const TOKEN_USAGE = `usage: crossfade token --id <name> --scope <scope> [--scope <scope> ...]

  Makes an API token. Scopes: admin, deploy:<service-glob>, read:<service-glob>,
  xds:<proxy-group-glob> (for the node metadata of polling Envoys).
  Prints the token (give it to its user; it is shown only now) and the entry to add
  under "tokens:" in crossfade.yaml.`;

// The host tools load their modules (gRPC, HAProxy's Runtime API) only when run: the API commands start faster.
const XDS_SERVER_DETAILS = `
  Serves Envoy (ADS over gRPC) and proxyless gRPC clients until SIGINT/SIGTERM: the
  snapshots published for the proxy groups with xds.api: ads, read every
  --poll-seconds, or those of --snapshot-file. The table: CROSSFADE_DYNAMODB_ENDPOINT's,
  else DynamoDB's (CROSSFADE_TABLE) with AWS credentials, else npm start's embedded
  store (.crossfade/store-endpoint.json, or in CROSSFADE_DATA_DIR); none: exit 1.`;

const HAPROXY_STATE_DETAILS = `
  On an HAProxy host. save: writes the server-state file and the servers file (a
  config fragment declaring crossfade's cf_* backends with their current servers), so a
  reload keeps weights, drain and dynamic servers; run it before every reload, or every
  --every seconds until SIGINT/SIGTERM. init: writes the servers file with empty backends
  if there is none (first start). docs/dataplane.md "HAProxy reloads".`;

export function tokenCommand(args: string[]): { token: string; entry: string } {
  const { values } = parseArgs({ args, options: { id: { type: 'string' }, scope: { type: 'string', multiple: true } }, strict: true });
  const id = values.id;
  if (!id || !/^[a-zA-Z0-9._-]{1,64}$/.test(id)) throw new Error('--id is required: 1-64 letters, digits, ".", "_" or "-"');
  const scopes = values.scope ?? [];
  if (scopes.length === 0) throw new Error('--scope is required at least once (admin, deploy:<service-glob>, read:<service-glob>, xds:<proxy-group-glob>)');
  const bad = scopes.find((scope) => parseScope(scope) === undefined);
  if (bad !== undefined) throw new Error(`--scope ${bad} is not admin, deploy:<service-glob>, read:<service-glob> or xds:<proxy-group-glob>`);
  const token = generateToken();
  const entry = [`  - id: ${id}`, `    sha256: ${hashToken(token)}`, `    scopes: [${scopes.map((s) => JSON.stringify(s)).join(', ')}]`].join('\n');
  return { token, entry };
}

async function serveXds(args: string[]): Promise<number> {
  const [{ runXdsServer }, { xdsServerDeps }] = await Promise.all([import('./xds-server.js'), import('../shared/runtime/xds.js')]);
  const running = await runXdsServer(args, xdsServerDeps(process.env));
  console.log(`crossfade xds-server listening on ${running.host}:${running.port}`);
  await new Promise<void>((stop) => {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.stop();
  return 0;
}

async function haproxyState(args: string[]): Promise<number> {
  const [{ runHaproxyState }, { createJsonLogger }] = await Promise.all([import('./haproxy-state.js'), import('../shared/adapters/json-logger.js')]);
  const stopping = new AbortController();
  process.once('SIGINT', () => stopping.abort());
  process.once('SIGTERM', () => stopping.abort());
  return runHaproxyState(args, { logger: createJsonLogger({ level: 'info' }), signal: stopping.signal });
}

/** The host tools, parsed by themselves as before the API commands existed; their help is their usage. */
const HOST_TOOLS: Record<string, { summary: string; help(): Promise<string>; run(args: string[]): Promise<number> }> = {
  token: {
    summary: 'make an API token and its crossfade.yaml entry',
    help: async () => TOKEN_USAGE,
    async run(args) {
      const { token, entry } = tokenCommand(args);
      console.log(`token (shown once): ${token}\n\nadd to crossfade.yaml under tokens:\n${entry}`);
      return 0;
    },
  },
  'xds-server': { summary: 'serve Envoy (ADS) and proxyless gRPC clients the published snapshots', help: async () => `${(await import('./xds-server.js')).XDS_SERVER_USAGE}\n${XDS_SERVER_DETAILS}`, run: serveXds },
  'haproxy-state': { summary: 'on an HAProxy host: keep weights and servers across reloads', help: async () => `${(await import('./haproxy-state.js')).HAPROXY_STATE_USAGE}\n${HAPROXY_STATE_DETAILS}`, run: haproxyState },
};

async function runHostTool(name: string, args: string[]): Promise<number> {
  const tool = HOST_TOOLS[name]!;
  if (args.includes('--help') || args.includes('-h')) {
    console.log(await tool.help());
    return 0;
  }
  try {
    return await tool.run(args);
  } catch (error) {
    console.error(`crossfade: ${(error as Error).message}`);
    // A configuration or environment to fix is 1; a command line to fix, 2.
    return error instanceof ConfigError ? 1 : 2;
  }
}

/** Runs one command line; answers its exit code (cli/exit-codes.ts). `io` defaults to this process's. */
export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  if (argv[0] !== undefined && Object.hasOwn(HOST_TOOLS, argv[0])) return runHostTool(argv[0], argv.slice(1));
  const streams = { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr, env: io.env ?? process.env, signal: io.signal };
  let exitCode: number = ExitCode.Ok;
  const program = buildProgram(streams, (code) => (exitCode = code));
  if (argv.length === 0) {
    streams.stderr.write(program.helpInformation());
    return ExitCode.Usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage; // commander said why (outputError)
    streams.stderr.write(`${describeError(error)}\n`);
    return exitCodeOfError(error);
  }
}

function buildProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command('crossfade')
    .description('crossfade from the terminal: canaries across AWS and GCP (docs/cli.md)')
    .version(pkg.version, '--version')
    .option('--url <url>', 'the API (else CROSSFADE_URL, else the context)')
    .option('--token <token>', 'the API token (else CROSSFADE_TOKEN, else the context); visible to ps: prefer the env or a token-file')
    .option('--via <target>', 'reach crossfade without HTTP: lambda:<function> or gcp:<url> (docs/direct-invocation.md)')
    .option('--context <name>', 'a context of the contexts file other than its current-context')
    .option('--config <path>', 'the contexts file (else CROSSFADE_CLI_CONFIG, else ~/.crossfade/config.yaml)')
    .option('-o, --output <format>', 'table, json (the API\'s document exactly) or yaml', 'table')
    .option('--no-color', 'no colour (also: NO_COLOR set, or not a terminal)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`crossfade: ${text.replace(/^error: /, '')}`),
    });
  const action = actionFor((command) => new Session(io, command.optsWithGlobals<GlobalFlags>()), done);
  deploymentCommands(program, action);
  policyCommands(program, action);
  serviceCommands(program, action);
  configCommands(program, action);
  for (const [name, tool] of Object.entries(HOST_TOOLS)) program.command(name).description(tool.summary).helpOption(false);
  return program;
}

if (import.meta.url === `file://${process.argv[1]}`) void main(process.argv.slice(2)).then((code) => process.exit(code));
