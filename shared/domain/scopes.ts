/**
 * Token scopes (docs/api.md): `admin`, `deploy:<service-glob>`, `read:<service-glob>`, and
 * `xds:<proxy-group-glob>` for the proxies that poll the discovery function.
 * `deploy` implies `read` on the same services: a pipeline that starts a deployment must be able to
 * poll it with the same token (Spinnaker sends one set of headers to create, monitor and cancel).
 * `xds` grants nothing else, and nothing else (not even `admin`) grants `xds`: a proxy's token sits
 * in its bootstrap file on every host of the group, so it must open nothing but its group's config,
 * and an operator's token must never be copied there to make a proxy work.
 * Globs use `*` for any run of characters; nothing else is special.
 */
export type Access = 'read' | 'deploy';

export type Scope = { kind: 'admin' } | { kind: Access; serviceGlob: string } | { kind: 'xds'; groupGlob: string };

/** A glob of names: lower-case letters, digits, "-" and `*` (policy rules scope by it too). */
export const GLOB_PATTERN = /^[a-z0-9*-]{1,63}$/;

/** Parses one scope string; undefined when it is not one of the four forms. */
export function parseScope(text: string): Scope | undefined {
  if (text === 'admin') return { kind: 'admin' };
  const match = /^(read|deploy|xds):(.+)$/.exec(text);
  if (!match) return undefined;
  const [, kind, glob] = match;
  if (!glob || !GLOB_PATTERN.test(glob)) return undefined;
  return kind === 'xds' ? { kind: 'xds', groupGlob: glob } : { kind: kind as Access, serviceGlob: glob };
}

export function globMatches(glob: string, service: string): boolean {
  const pattern = '^' + glob.split('*').map(escapeRegExp).join('.*') + '$';
  return new RegExp(pattern).test(service);
}

export function allows(scopes: readonly Scope[], access: Access, service: string): boolean {
  return scopes.some((scope) => {
    if (scope.kind === 'admin') return true;
    if (scope.kind === 'xds') return false;
    if (access === 'read') return globMatches(scope.serviceGlob, service);
    return scope.kind === 'deploy' && globMatches(scope.serviceGlob, service);
  });
}

/** True when the scopes reach every service (admin, or a bare `*` glob of the access asked). */
export function allowsEveryService(scopes: readonly Scope[], access: Access): boolean {
  return scopes.some((s) => s.kind === 'admin' || (s.kind !== 'xds' && s.serviceGlob === '*' && (access === 'read' || s.kind === 'deploy')));
}

/** True when the scopes let a proxy fetch the configuration of proxy group `group`. */
export function allowsXds(scopes: readonly Scope[], group: string): boolean {
  return scopes.some((s) => s.kind === 'xds' && globMatches(s.groupGlob, group));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
