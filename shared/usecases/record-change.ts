/**
 * Every write of a deployment and its audit event, without transactions: the event is stored in
 * the deployment's own item (run.lastChange) by the conditional write, then appended to the audit
 * log. Whoever finds a deployment whose last event may be missing (a retried task, a repeated
 * request) appends it again, which is a no-op when it is there (AuditLog.append is idempotent).
 * Appending an event first enqueues its notifications (usecases/notify/enqueue.ts, idempotent too),
 * so an event that was recorded is eventually enqueued, whichever writer lives to append it.
 */
import type { Deployment, RecordedChange } from '../domain/deployment.js';
import type { AuditEvent, AuditLog } from '../ports/audit-log.js';
import type { DeploymentStore } from '../ports/deployment-store.js';
import type { CrashPoints } from '../ports/crash-points.js';
import { enqueueNotifications, type Notifier } from './notify/enqueue.js';

export interface Change {
  /** `cancel`, `shift`…: the event's id suffix; the action is `deployment.<verb>`. */
  verb: string;
  actor: string;
  reason: string | null;
  details: Record<string, unknown>;
  /** Appended to the audit log only (too large to keep with the deployment). */
  extraDetails?: Record<string, unknown>;
}

/**
 * Writes `next` as the version after `current` (transitions compose; one write is one version),
 * with its event. Throws VersionConflictError when `current` is no longer the stored version.
 */
export async function writeWithEvent(deps: { deployments: DeploymentStore; audit: AuditLog; crashPoints?: CrashPoints | undefined; notifier?: Notifier | undefined }, current: Deployment, next: Deployment, change: Change): Promise<Deployment> {
  const version = current.version + 1;
  const recorded: RecordedChange = {
    eventId: `v${String(version).padStart(6, '0')}-${change.verb}`,
    at: next.updatedAt,
    actor: change.actor,
    action: `deployment.${change.verb}`,
    reason: change.reason,
    details: change.details,
  };
  const written: Deployment = { ...next, version, run: { ...next.run, lastChange: recorded } };
  await deps.deployments.update(written);
  deps.crashPoints?.reached(`write:${change.verb}:after-write:step${current.stepIndex}`);
  await appendEvent(deps, { subject: `deployment/${written.id}`, ...recorded, details: { ...recorded.details, ...(change.extraDetails ?? {}) } }, written);
  return written;
}

/** Appends the deployment's last event again if a writer died before appending it; a no-op otherwise. */
export async function ensureLastEvent(deps: { audit: AuditLog; notifier?: Notifier | undefined; crashPoints?: CrashPoints | undefined }, d: Deployment): Promise<void> {
  const last = d.run.lastChange;
  if (last) await appendEvent(deps, { subject: `deployment/${d.id}`, ...last }, d);
}

/** Enqueues the event's notifications, then appends it; `deployment` is as the event's write stored it (none: the event wrote no deployment). */
export async function appendEvent(deps: { audit: AuditLog; notifier?: Notifier | undefined; crashPoints?: CrashPoints | undefined }, event: AuditEvent, deployment: Deployment | undefined): Promise<void> {
  if (deps.notifier) await enqueueNotifications(deps.notifier, event, deployment);
  deps.crashPoints?.reached(`notify:after-enqueue:${event.action}`);
  await deps.audit.append(event);
}
