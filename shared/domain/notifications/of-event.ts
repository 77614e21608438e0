/**
 * Which audit events are notifications, and what they say: a pure mapping from an event (and the
 * deployment as that event's write left it) to a Notification, or undefined for the many events
 * nobody is told about (shift, unhold, release, ...). One place decides, so the outbox, the
 * formats and the docs agree.
 */
import type { Deployment, RecordedChange } from '../deployment.js';
import type { Notification, NotificationKind, NotifiedDeployment } from './types.js';

/** An audit event (ports/audit-log.ts `AuditEvent`): a recorded change and what it is about. */
export type RecordedEvent = RecordedChange & { subject: string };

const FINAL_PHASE_KIND: Record<string, NotificationKind> = { SUCCEEDED: 'promoted', ROLLED_BACK: 'rolled-back', FAILED: 'rolled-back', CANCELED: 'canceled' };
/** Writes that can end a run: the one that sets the final phase is the outcome's notification (release keeps the phase and says nothing). */
const ENDING_VERBS = new Set(['promote', 'rollback', 'give-up', 'recover', 'cancel']);

/** The kind of notification an event is, or undefined. `phase` is the phase the event's write left. */
export function notificationKindOf(event: Pick<RecordedEvent, 'action' | 'details'>, phase: string | null): NotificationKind | undefined {
  if (event.action === 'policy.denied') return 'policy-denied';
  if (event.action === 'policy.overridden') return 'policy-overridden';
  if (!event.action.startsWith('deployment.')) return undefined;
  const verb = event.action.slice('deployment.'.length);
  if (verb === 'created') return 'created';
  if (verb === 'held') return 'held';
  if (verb === 'converge') return 'step-done';
  if (verb === 'judge') return 'judgment';
  if (verb === 'hold') return (event.details['hold'] as { kind?: string } | undefined)?.kind === 'gate' ? 'paused' : undefined;
  if (ENDING_VERBS.has(verb) && phase !== null) return FINAL_PHASE_KIND[phase];
  return undefined;
}

/**
 * The notification of `event`, or undefined when it is not one. `deployment` is the deployment as
 * the event's own write stored it; without one (a refused create wrote nothing) the deployment's
 * fields come from the event's details (`service`, `environment`, `canary`, `baseline`).
 */
export function notificationOf(event: RecordedEvent, deployment: Deployment | undefined): Notification | undefined {
  const phase = deployment?.phase ?? stringOr(event.details['phase']);
  const type = notificationKindOf(event, phase);
  if (type === undefined) return undefined;
  return {
    id: `${event.subject}/${event.eventId}`,
    type,
    at: event.at,
    actor: event.actor,
    deployment: deployment ? deploymentOf(deployment) : deploymentFromDetails(event),
    phase,
    stepIndex: deployment?.stepIndex ?? numberOr(event.details['stepIndex']),
    weights: deployment?.weights ?? null,
    reason: event.reason,
    // A judgment's score and classification live in the deployment (the audit event holds the samples).
    details: type === 'judgment' && deployment ? { ...event.details, judgment: deployment.run.judgments.at(-1) ?? null } : event.details,
  };
}

function deploymentOf(d: Deployment): NotifiedDeployment {
  return { id: d.id, service: d.service, environment: d.environment ?? null, canary: d.canary.version, baseline: d.baseline?.version ?? null };
}

function deploymentFromDetails(event: RecordedEvent): NotifiedDeployment {
  const { details } = event;
  const subjectId = event.subject.startsWith('deployment/') ? event.subject.slice('deployment/'.length) : null;
  return {
    id: stringOr(details['deploymentId']) ?? subjectId,
    service: stringOr(details['service']) ?? (event.subject.startsWith('service/') ? event.subject.slice('service/'.length) : 'unknown'),
    environment: stringOr(details['environment']),
    canary: versionOf(details['canary']),
    baseline: versionOf(details['baseline']),
  };
}

function versionOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  return stringOr((value as { version?: unknown } | null | undefined)?.version);
}

function stringOr(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOr(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
