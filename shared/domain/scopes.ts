/**
 * Token scopes (API.md): `admin`, `deploy:<service-glob>`, `read:<service-glob>`.
 * `deploy` implies `read` on the same services: a pipeline that starts a deployment must be able to
 * poll it with the same token (Spinnaker sends one set of headers to create, monitor and cancel).
 * Globs use `*` for any run of characters; nothing else is special.
 */
export type Access = 'read' | 'deploy';

export type Scope = { kind: 'admin' } | { kind: Access; serviceGlob: string };

const GLOB_PATTERN = /^[a-z0-9*-]{1,63}$/;

/** Parses one scope string; undefined when it is not one of the three forms. */
export function parseScope(text: string): Scope | undefined {
  if (text === 'admin') return { kind: 'admin' };
  const match = /^(read|deploy):(.+)$/.exec(text);
  if (!match) return undefined;
  const [, kind, glob] = match;
  if (!glob || !GLOB_PATTERN.test(glob)) return undefined;
  return { kind: kind as Access, serviceGlob: glob };
}

export function globMatches(glob: string, service: string): boolean {
  const pattern = '^' + glob.split('*').map(escapeRegExp).join('.*') + '$';
  return new RegExp(pattern).test(service);
}

export function allows(scopes: readonly Scope[], access: Access, service: string): boolean {
  return scopes.some((scope) => {
    if (scope.kind === 'admin') return true;
    if (access === 'read') return globMatches(scope.serviceGlob, service);
    return scope.kind === 'deploy' && globMatches(scope.serviceGlob, service);
  });
}

/** True when the scopes reach every service (admin, or a bare `*` glob of the access asked). */
export function allowsEveryService(scopes: readonly Scope[], access: Access): boolean {
  return scopes.some((s) => s.kind === 'admin' || (s.serviceGlob === '*' && (access === 'read' || s.kind === 'deploy')));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
