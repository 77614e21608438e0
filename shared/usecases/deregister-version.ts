/**
 * Deregistering a version (docs/api.md `DELETE /v1/services/{s}/versions/{v}`): refused with 409 while
 * it carries traffic in any proxy group, or while a deployment holds the service. Idempotent:
 * deregistering a version that is not registered changes nothing.
 */
import { ConflictError, VersionConflictError } from '../domain/errors.js';
import type { GroupSplit } from '../domain/mesh.js';
import type { MeshDeps } from './mesh-deps.js';

export interface DeregisterVersionCommand {
  service: string;
  version: string;
  actor: string;
  /** The caller's why, for the audit trail. */
  reason?: string | null;
  /** The deployment holding the service's lock may deregister (its own baseline, once promoted). */
  asLockHolder?: string;
}

const WRITE_ATTEMPTS = 3;

export async function deregisterVersion(deps: MeshDeps, command: DeregisterVersionCommand): Promise<'deregistered' | 'not-registered'> {
  const { service, version } = command;
  for (let attempt = 1; ; attempt++) {
    try {
      const state = await deps.registry.getService(service);
      const registration = state?.versions.find((v) => v.version === version);
      if (!state || !registration) return 'not-registered';
      const serving = state.splits.find((s) => Object.hasOwn(s.weights, version) && s.weights[version]! > 0);
      if (serving) {
        throw new ConflictError(`${service}@${version} carries ${serving.weights[version]}% of traffic in proxy group ${serving.proxyGroup}: shift it away first`, serving.proxyGroup);
      }
      const lock = await deps.locks.get(service);
      if (lock && lock.owner !== command.asLockHolder && new Date(lock.leaseExpiresAt) > deps.clock.now()) {
        throw new ConflictError(`service ${service} is being deployed by ${lock.owner}`, lock.owner);
      }
      const now = deps.clock.now().toISOString();
      for (const split of state.splits.filter((s) => version in s.weights)) await deps.registry.putSplit(withoutVersion(split, version, now));
      await deps.registry.deleteVersion(service, version, registration.revision);
      await deps.audit.append({
        subject: `service/${service}`,
        eventId: `${now}#${version}-deregistered`,
        at: now,
        actor: command.actor,
        action: 'service.version-deregistered',
        reason: command.reason ?? null,
        details: { version, revision: registration.revision },
      });
      deps.logger.info('version deregistered', { service, version, actor: command.actor });
      return 'deregistered';
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= WRITE_ATTEMPTS) throw error;
    }
  }
}

function withoutVersion(split: GroupSplit, version: string, now: string): GroupSplit {
  const weights = Object.fromEntries(Object.entries(split.weights).filter(([v]) => v !== version));
  return { ...split, weights, revision: split.revision + 1, updatedAt: now };
}
