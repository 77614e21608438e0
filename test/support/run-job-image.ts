/**
 * The run-job image and Job as files, read the way Docker and Spinnaker read them, for tests that
 * have no container runtime: the Dockerfile's instructions, what .dockerignore lets into the build
 * context, the command the image's ENTRYPOINT names mapped onto this checkout (the image's Node 22
 * is node_modules/.bin/node, the `node` devDependency; the copied bundle is the built one), and the
 * Job's container args with their SpEL placeholders filled as Orca would.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const JOB_MANIFEST = 'spinnaker/run-job/deploy-job.yaml';
/** The Node 22 of node_modules (the `node` devDependency), standing in for the image's. */
export const NODE_22 = join(ROOT, 'node_modules', '.bin', 'node');

export interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions in order, comments dropped, `\` continuations joined. */
export function dockerfileInstructions(text: string): Instruction[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return logical.map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
  });
}

export function readDockerfile(): Instruction[] {
  return dockerfileInstructions(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
}

/** The exec form (a JSON array) of ENTRYPOINT or CMD; the shell form would need a shell the image does not have. */
export function execForm(instructions: Instruction[], keyword: 'ENTRYPOINT' | 'CMD'): string[] {
  const found = instructions.filter((i) => i.keyword === keyword).at(-1);
  if (found === undefined) throw new Error(`the Dockerfile has no ${keyword}`);
  const parsed: unknown = JSON.parse(found.args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`${keyword} is not in exec form: ${found.args}`);
  return parsed;
}

/** COPY instructions as `{sources, destination, flags}` (only from the build context: no --from). */
export function copies(instructions: Instruction[]): { sources: string[]; destination: string; flags: string[] }[] {
  return instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const flags = words.filter((w) => w.startsWith('--'));
      const paths = words.filter((w) => !w.startsWith('--'));
      return { sources: paths.slice(0, -1), destination: paths.at(-1)!, flags };
    });
}

/**
 * Whether .dockerignore keeps `path` (relative to the context) out of the build context: the last
 * matching pattern decides, `!` lets back in. Patterns as Docker matches them: `*` within one path
 * segment, `**` across segments, and a pattern matching a parent directory matches what is inside.
 */
export function dockerIgnores(dockerignore: string, path: string): boolean {
  let ignored = false;
  for (const raw of dockerignore.split('\n').map((line) => line.trim())) {
    if (raw === '' || raw.startsWith('#')) continue;
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+/, '');
    if (matchesPathOrParent(pattern, path)) ignored = !negated;
  }
  return ignored;
}

function matchesPathOrParent(pattern: string, path: string): boolean {
  const source = pattern
    .split('/')
    .map((segment) => (segment === '**' ? '.*' : segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*').replaceAll('?', '[^/]')))
    .join('/');
  return new RegExp(`^${source}(?:/.*)?$`).test(path);
}

/**
 * The command the image runs by ENTRYPOINT, here: its Node as NODE_22, and a path the image COPYs
 * as the file it was copied from in `contextDir` (a build context holding only those files, so the
 * bundle finds no node_modules to lean on).
 */
export function localImageCommand(instructions: Instruction[], contextDir: string): string[] {
  const [node, ...rest] = execForm(instructions, 'ENTRYPOINT');
  if (node === undefined || !/\/node$/.test(node)) throw new Error(`ENTRYPOINT does not start with a node binary: ${node}`);
  return [NODE_22, ...rest.map((arg) => contextFileOf(instructions, arg, contextDir) ?? arg)];
}

function contextFileOf(instructions: Instruction[], imagePath: string, contextDir: string): string | undefined {
  const copied = copies(instructions).find((c) => c.destination === imagePath && c.sources.length === 1);
  return copied ? join(contextDir, copied.sources[0]!) : undefined;
}

/** `v22.x.y` of NODE_22: the image's base is Node 22, so is what the tests run it with. */
export function node22Version(): string {
  return execFileSync(NODE_22, ['--version'], { encoding: 'utf8' }).trim();
}

export interface JobManifest {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
  spec: {
    backoffLimit?: number;
    ttlSecondsAfterFinished?: number;
    activeDeadlineSeconds?: number;
    template: { spec: { restartPolicy?: string; securityContext?: Record<string, unknown>; containers: JobContainer[]; automountServiceAccountToken?: boolean } };
  };
}

export interface JobContainer {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; privileged?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export function readJobManifest(): JobManifest {
  return parse(readFileSync(join(ROOT, JOB_MANIFEST), 'utf8')) as JobManifest;
}

/** Every `${…}` SpEL expression in `text`. */
export function spelExpressions(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!);
}

/** `text` with each `${expression}` replaced by `values[expression]`, as Orca evaluates them; an expression without a value throws. */
export function fillSpel(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([^}]*)\}/g, (_whole, expression: string) => {
    const value = values[expression];
    if (value === undefined) throw new Error(`no value for the SpEL expression ${expression}`);
    return value;
  });
}
