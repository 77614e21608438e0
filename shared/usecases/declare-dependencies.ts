/**
 * Declaring the services a service calls (docs/api.md `PUT /v1/services/{s}/dependencies`): one
 * item in the registry, written conditionally on the revision read, and then the service's sidecar
 * groups (`proxyGroups[].sidecarOf`) republished whole: a sidecar group's whole publish reads only
 * what it sees, so it adds the parts of new dependencies and removes those of dropped ones in this
 * request, at a cost that grows with the dependencies, not with the registry.
 *
 * Idempotent and safe to retry: an equal list writes nothing, and the sidecar groups are published
 * every time (a publish that changes nothing writes nothing), so a retry after a failure between
 * the write and the publish finishes the publish.
 */
import { checkDependencies, normalizeDependencies, sameDependencies, sidecarOf, type DeclaredDependencies } from '../domain/dependencies.js';
import { NotFoundError, VersionConflictError } from '../domain/errors.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { CrashPoints } from '../ports/crash-points.js';
import type { Publish } from './coalescing-publisher.js';
import { publishSnapshots, type PublishReport } from './publish-snapshots.js';
import type { XdsDeps } from './xds-deps.js';

export interface DeclareDependenciesDeps extends XdsDeps {
  audit: AuditLog;
  /** Publishing shared by this process (usecases/coalescing-publisher.ts); default: each publishes alone. */
  publish?: Publish;
  crashPoints?: CrashPoints | undefined;
}

export interface DeclareDependenciesCommand {
  service: string;
  dependencies: readonly string[];
  actor: string;
  /** The caller's why, for the audit trail. */
  reason?: string | null;
}

export interface DeclareDependenciesResult {
  declared: DeclaredDependencies;
  outcome: 'created' | 'updated' | 'unchanged';
  /** The service's sidecar groups' publication; undefined when it has none. */
  publication: PublishReport | undefined;
}

const WRITE_ATTEMPTS = 3;

export async function declareDependencies(deps: DeclareDependenciesDeps, command: DeclareDependenciesCommand): Promise<DeclareDependenciesResult> {
  checkDependencies(command.service, command.dependencies);
  const { declared, outcome } = await store(deps, command);
  // Written, not yet published: a retry of the PUT publishes (test/integration/chaos-dataplane.test.ts).
  deps.crashPoints?.reached('dependencies:after-write');
  const groups = deps.proxyGroups.filter((g) => sidecarOf(g) === command.service).map((g) => g.name);
  const request = { groups };
  const publication = groups.length === 0 ? undefined : await (deps.publish ? deps.publish(request) : publishSnapshots(deps, request));
  return { declared, outcome, publication };
}

/** The service's declaration; NotFoundError when it never declared any. */
export async function readDependencies(deps: Pick<XdsDeps, 'registry'>, service: string): Promise<DeclaredDependencies> {
  const declared = await deps.registry.getDependencies(service);
  if (!declared) throw new NotFoundError(`service ${service} has declared no dependencies`);
  return declared;
}

async function store(deps: DeclareDependenciesDeps, command: DeclareDependenciesCommand): Promise<Pick<DeclareDependenciesResult, 'declared' | 'outcome'>> {
  for (let attempt = 1; ; attempt++) {
    try {
      const stored = await deps.registry.getDependencies(command.service);
      const unchanged = stored !== undefined && sameDependencies(stored.dependencies, command.dependencies);
      const declared: DeclaredDependencies = unchanged
        ? stored
        : { service: command.service, dependencies: normalizeDependencies(command.dependencies), revision: (stored?.revision ?? 0) + 1, updatedAt: deps.clock.now().toISOString(), updatedBy: command.actor };
      if (!unchanged) await deps.registry.putDependencies(declared);
      // Appended again by a retry that finds its declaration written (the event id is the declaration's): the trail misses none.
      await deps.audit.append({
        subject: `service/${command.service}`,
        eventId: `${declared.updatedAt}#dependencies-r${declared.revision}`,
        at: declared.updatedAt,
        actor: declared.updatedBy,
        action: 'service.dependencies-declared',
        reason: command.reason ?? null,
        details: { revision: declared.revision, dependencies: declared.dependencies },
      });
      if (unchanged) return { declared, outcome: 'unchanged' };
      deps.logger.info('dependencies declared', { service: command.service, dependencies: declared.dependencies.length, actor: command.actor });
      return { declared, outcome: stored ? 'updated' : 'created' };
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= WRITE_ATTEMPTS) throw error;
    }
  }
}
