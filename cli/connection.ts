/**
 * Which crossfade a command talks to, and with which token (docs/cli.md "Connection"): flags over
 * the environment (CROSSFADE_URL, CROSSFADE_TOKEN) over the context (--context, else the file's
 * current-context). A context's token goes only to that context's own URL: a --url or
 * CROSSFADE_URL pointing elsewhere never receives it.
 */
import { readFileSync, statSync } from 'node:fs';
import { type Context, type ContextsFile, contextsPath, findContext, readContexts, tokenFilePath } from './contexts.js';
import { UsageError } from './failure.js';

export interface ConnectionFlags {
  url?: string;
  token?: string;
  via?: string;
  context?: string;
  config?: string;
}

export type Endpoint = { kind: 'http'; url: string; token: string | undefined } | { kind: 'via'; via: string };

export interface Connection {
  endpoint: Endpoint;
  /** Where the endpoint came from, for messages: `--url`, `CROSSFADE_URL`, `context prod`. */
  source: string;
  /** Said on stderr before the command runs (a token file other users may read). */
  warnings: string[];
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Connection {
  if (flags.url !== undefined && flags.via !== undefined) throw new UsageError('give --url or --via, not both');
  const file = readContexts(contextsPath(flags.config, env));
  const context = chosenContext(file, flags.context);
  const warnings: string[] = [];

  if (flags.via !== undefined) return { endpoint: { kind: 'via', via: flags.via }, source: '--via', warnings };
  const [url, source] = flags.url !== undefined ? [flags.url, '--url'] : env['CROSSFADE_URL'] ? [env['CROSSFADE_URL'], 'CROSSFADE_URL'] : [context?.url, `context ${context?.name}`];
  if (url === undefined) {
    if (context?.via !== undefined) return { endpoint: { kind: 'via', via: context.via }, source: `context ${context.name}`, warnings };
    throw new UsageError(`no crossfade to talk to: give --url, set CROSSFADE_URL, or add a context to ${file.path} (docs/cli.md "Connection")`);
  }
  const contextOwnsUrl = context !== undefined && context.url !== undefined && sameOrigin(context.url, url);
  const token = flags.token ?? (env['CROSSFADE_TOKEN'] || undefined) ?? (contextOwnsUrl ? tokenOfContext(file, context, env, warnings) : undefined);
  return { endpoint: { kind: 'http', url, token }, source, warnings };
}

/** --context, else current-context; undefined when neither names one. */
function chosenContext(file: ContextsFile, flag: string | undefined): Context | undefined {
  const name = flag ?? file.currentContext;
  if (name === undefined) return undefined;
  if (!file.exists) throw new UsageError(`--context ${name}: ${file.path} does not exist`);
  return findContext(file, name);
}

function tokenOfContext(file: ContextsFile, context: Context, env: NodeJS.ProcessEnv, warnings: string[]): string | undefined {
  const path = tokenFilePath(file, context, env);
  if (path === undefined) {
    if (context.token !== undefined) warnIfOpen(file.path, warnings);
    return context.token;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`context ${context.name}: cannot read token-file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  warnIfOpen(path, warnings);
  const token = text.trim();
  if (token === '') throw new UsageError(`context ${context.name}: token-file ${path} is empty`);
  return token;
}

/** As ssh does for a private key: a file that holds a token should be its owner's alone. */
function warnIfOpen(path: string, warnings: string[]): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) warnings.push(`warning: ${path} holds a token and is open to other users (mode 0${mode.toString(8)}): run chmod 600 ${path}`);
}

function sameOrigin(a: string, b: string): boolean {
  try {
    const [left, right] = [new URL(a), new URL(b)];
    return left.origin === right.origin && left.pathname.replace(/\/+$/, '') === right.pathname.replace(/\/+$/, '');
  } catch {
    return false;
  }
}
