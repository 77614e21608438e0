/**
 * The services a service calls (docs/api.md `PUT /v1/services/{s}/dependencies`), and what a
 * sidecar group sees because of them (docs/dataplane.md "Dependency-scoped groups"): an Envoy group
 * that is the sidecars of one service (`proxyGroups[].sidecarOf`) is given that service's
 * dependencies and the services `mesh.alwaysVisible` names, and nothing else, so its snapshot grows
 * with the service's dependencies, not with the registry.
 *
 * One source of truth for "the services X calls": the list declared in the registry. The policy
 * rule dependency-health reads it too; its `dependsOn` is only the default for a service that has
 * declared none (docs/policy.md).
 *
 * Pure: no I/O.
 */
import { ValidationError } from './errors.js';
import type { ProxyGroup } from './mesh.js';
import { isServiceName, SERVICE_NAME_RULE } from './names.js';

/** A list longer than this is a registry, not a service's calls; a sidecar group's snapshot stays small. */
export const MAX_DEPENDENCIES = 200;

/** What the registry holds for a service that declared its dependencies. */
export interface DeclaredDependencies {
  service: string;
  /** Sorted, each once, never the service itself. */
  dependencies: string[];
  /** Optimistic-locking counter: 1 at the first declaration. */
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

/** Throws ValidationError naming `dependencies[i]` and the rule when the list cannot be a service's dependencies. */
export function checkDependencies(service: string, dependencies: readonly string[]): void {
  if (dependencies.length > MAX_DEPENDENCIES) throw new ValidationError(`dependencies must list at most ${MAX_DEPENDENCIES} services`, 'dependencies', 'max-dependencies');
  const seen = new Set<string>();
  dependencies.forEach((name, index) => {
    const field = `dependencies[${index}]`;
    if (!isServiceName(name)) throw new ValidationError(`${field} must be ${SERVICE_NAME_RULE}`, field, 'service-name');
    if (name === service) throw new ValidationError(`${field} must not be the service itself (${service})`, field, 'not-self');
    if (seen.has(name)) throw new ValidationError(`${field} must not repeat ${name}`, field, 'unique');
    seen.add(name);
  });
}

/** The list as the registry keeps it: sorted, so equal lists compare equal. */
export function normalizeDependencies(dependencies: readonly string[]): string[] {
  return [...dependencies].sort();
}

export function sameDependencies(a: readonly string[], b: readonly string[]): boolean {
  const x = normalizeDependencies(a);
  const y = normalizeDependencies(b);
  return x.length === y.length && x.every((name, i) => name === y[i]);
}

/** The service whose sidecars the group is, or undefined for a group that sees every service. */
export function sidecarOf(group: ProxyGroup): string | undefined {
  return group.kind === 'envoy' ? group.sidecarOf : undefined;
}

/** What a sidecar group sees: its service's dependencies (none declared: none) and the always-visible services. */
export function visibleServices(dependencies: readonly string[] | undefined, alwaysVisible: readonly string[]): ReadonlySet<string> {
  return new Set([...(dependencies ?? []), ...alwaysVisible]);
}
