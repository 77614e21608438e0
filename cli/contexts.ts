/**
 * The CLI's own configuration file, kubectl-style (docs/cli.md "Contexts"): named contexts, each a
 * crossfade to talk to (`url` with a `token` or `token-file`, or `via` for direct invocation), and
 * the one in use. `~/.crossfade/config.yaml` unless --config or CROSSFADE_CLI_CONFIG name another
 * (CROSSFADE_CONFIG is the server's crossfade.yaml, not this).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod/mini';
import { UsageError } from './failure.js';

export interface Context {
  name: string;
  url?: string;
  token?: string;
  'token-file'?: string;
  via?: string;
}

export interface ContextsFile {
  path: string;
  /** False when the file does not exist (every field then empty). */
  exists: boolean;
  currentContext: string | undefined;
  contexts: Context[];
}

const contextSchema = z.strictObject({
  name: z.string().check(z.minLength(1, 'must not be empty')),
  url: z.optional(z.url('must be a URL')),
  token: z.optional(z.string().check(z.minLength(1, 'must not be empty'))),
  'token-file': z.optional(z.string().check(z.minLength(1, 'must not be empty'))),
  via: z.optional(z.string().check(z.regex(/^(lambda|gcp):.+$/, 'must be lambda:<function> or gcp:<url>'))),
});
const fileSchema = z.strictObject({
  'current-context': z.optional(z.string()),
  contexts: z._default(z.array(contextSchema), []),
});

export function contextsPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(flag ?? env['CROSSFADE_CLI_CONFIG'] ?? join(env['HOME'] ?? homedir(), '.crossfade', 'config.yaml'));
}

export function readContexts(path: string): ContextsFile {
  if (!existsSync(path)) return { path, exists: false, currentContext: undefined, contexts: [] };
  return { path, exists: true, ...parseContexts(readFileSync(path, 'utf8'), path) };
}

/** The file's text, checked: an error names the file and the key. */
export function parseContexts(text: string, path: string): Pick<ContextsFile, 'currentContext' | 'contexts'> {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw new UsageError(`${path}: not YAML: ${document.errors[0]!.message.split('\n')[0]}`);
  const parsed = z.safeParse(fileSchema, document.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${path}: ${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top)'}: ${issue.message}`);
  }
  const { contexts } = parsed.data;
  contexts.forEach((context, index) => {
    const where = `${path}: contexts[${index}] (${context.name})`;
    if ((context.url === undefined) === (context.via === undefined)) throw new UsageError(`${where}: give exactly one of url and via`);
    if (context.token !== undefined && context['token-file'] !== undefined) throw new UsageError(`${where}: give at most one of token and token-file`);
    if (contexts.findIndex((c) => c.name === context.name) !== index) throw new UsageError(`${where}: the name is used twice`);
  });
  const current = parsed.data['current-context'];
  return { currentContext: current === '' ? undefined : current, contexts };
}

/** Sets current-context, keeping the rest of the file (comments, order) as it was. */
export function useContext(file: ContextsFile, name: string): void {
  if (!file.contexts.some((c) => c.name === name)) throw new UsageError(`no context named ${name} in ${file.path}${describeNames(file)}`);
  const document = parseDocument(readFileSync(file.path, 'utf8'));
  document.set('current-context', name);
  writeFileSync(file.path, document.toString());
}

export function findContext(file: ContextsFile, name: string): Context {
  const context = file.contexts.find((c) => c.name === name);
  if (!context) throw new UsageError(`no context named ${name} in ${file.path}${describeNames(file)}`);
  return context;
}

/** A token-file path as written: `~/` is the home directory, a relative path is beside the file. */
export function tokenFilePath(file: ContextsFile, context: Context, env: NodeJS.ProcessEnv): string | undefined {
  const written = context['token-file'];
  if (written === undefined) return undefined;
  if (written === '~' || written.startsWith('~/')) return join(env['HOME'] ?? homedir(), written.slice(1));
  return resolve(dirname(file.path), written);
}

function describeNames(file: ContextsFile): string {
  return file.contexts.length === 0 ? ' (it has none)' : ` (it has ${file.contexts.map((c) => c.name).join(', ')})`;
}
