/**
 * The `crossfade` command (`npm run crossfade -- <command>`): `token`, which makes an API token and
 * the crossfade.yaml entry that grants it (the token is printed once and stored nowhere; the
 * configuration keeps only its sha256); `xds-server`; and `haproxy-state`, for HAProxy hosts.
 */
import { parseArgs } from 'node:util';
import { createJsonLogger } from '../shared/adapters/json-logger.js';
import { ConfigError } from '../shared/domain/errors.js';
import { parseScope } from '../shared/domain/scopes.js';
import { generateToken, hashToken } from '../shared/http/auth.js';
import { xdsServerDeps } from '../shared/runtime/xds.js';
import { HAPROXY_STATE_USAGE, runHaproxyState } from './haproxy-state.js';
import { runXdsServer, XDS_SERVER_USAGE } from './xds-server.js';

const USAGE = `usage: crossfade token --id <name> --scope <scope> [--scope <scope> ...]
       ${XDS_SERVER_USAGE.replace('usage: ', '')}
       ${HAPROXY_STATE_USAGE.replace('usage: ', '')}

  token       makes an API token. Scopes: admin, deploy:<service-glob>, read:<service-glob>,
              xds:<proxy-group-glob> (for the node metadata of polling Envoys).
              Prints the token (give it to its user; it is shown only now) and the entry to add
              under "tokens:" in crossfade.yaml.
  xds-server  serves Envoy (ADS over gRPC) and proxyless gRPC clients until SIGINT/SIGTERM: the
              snapshots published for the proxy groups with xds.api: ads, read every
              --poll-seconds, or those of --snapshot-file. The table: CROSSFADE_DYNAMODB_ENDPOINT's,
              else DynamoDB's (CROSSFADE_TABLE) with AWS credentials, else npm start's embedded
              store (.crossfade/store-endpoint.json, or in CROSSFADE_DATA_DIR); none: exit 1.
  haproxy-state
              on an HAProxy host. save: writes the server-state file and the servers file (a
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
  const stopping = new AbortController();
  process.once('SIGINT', () => stopping.abort());
  process.once('SIGTERM', () => stopping.abort());
  return runHaproxyState(args, { logger: createJsonLogger({ level: 'info' }), signal: stopping.signal });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'xds-server') return await serveXds(rest);
    if (command === 'haproxy-state') return await haproxyState(rest);
    if (command === 'token') {
      const { token, entry } = tokenCommand(rest);
      console.log(`token (shown once): ${token}\n\nadd to crossfade.yaml under tokens:\n${entry}`);
      return 0;
    }
    console.error(command === undefined || command === '--help' ? USAGE : `crossfade: unknown command ${command}\n\n${USAGE}`);
    return command === '--help' ? 0 : 2;
  } catch (error) {
    console.error(`crossfade: ${(error as Error).message}`);
    // A configuration or environment to fix is 1; a command line to fix, 2.
    return error instanceof ConfigError ? 1 : 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) void main(process.argv.slice(2)).then((code) => process.exit(code));
