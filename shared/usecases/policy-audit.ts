/**
 * Policy verdicts in the audit trail (docs/policy.md "In the audit trail"): every verdict is
 * stored with the inputs the rules looked at. An allowed create keeps them in its
 * `deployment.created` event; a refusal is one `policy.denied` event — on `service/<service>` at
 * create (no deployment exists), on the deployment at promote — and nothing else is written: the
 * audit trail is an append-only record of what was decided, the deployment state stays untouched.
 * An override (break glass) is a `policy.overridden` event on the deployment.
 */
import type { Deployment } from '../domain/deployment.js';
import type { PolicyDeniedError } from '../domain/errors.js';
import type { AuditEvent } from '../ports/audit-log.js';
import type { UseCaseDeps } from './deps.js';
import type { PolicyCheck } from './policy-check.js';
import { appendEvent } from './record-change.js';

/** What an audit event keeps of a policy check. */
export function policyDetails(check: PolicyCheck): { verdicts: PolicyCheck['verdicts']; inputs: PolicyCheck['inputs'] } {
  return { verdicts: check.verdicts, inputs: check.inputs };
}

export interface DenialRecord {
  /** `service/<service>` or `deployment/<id>`. */
  subject: string;
  /** Sorts the event among the subject's others (a deployment's: `v000003.`, after that version's own event). */
  eventIdPrefix: string;
  actor: string;
  denial: PolicyDeniedError;
  decision: PolicyCheck;
  details: Record<string, unknown>;
}

/** Appends one `policy.denied` event. Each refusal is its own event (a repeated request is refused, and recorded, again). */
export async function recordDenial(deps: Pick<UseCaseDeps, 'audit' | 'ids' | 'clock' | 'notifier' | 'crashPoints'>, record: DenialRecord): Promise<void> {
  const at = deps.clock.now().toISOString();
  // A fresh deployment id is unique and sortable by time: it tells apart two refusals in one millisecond.
  const unique = deps.ids.deploymentId();
  // Through appendEvent: a refusal is notified (policy-denied), its details naming the service and versions.
  await appendEvent(deps, {
    subject: record.subject,
    eventId: `${record.eventIdPrefix}${at}#policy-denied-${unique}`,
    at,
    actor: record.actor,
    action: 'policy.denied',
    reason: record.denial.message,
    details: { ...record.details, ...policyDetails(record.decision) },
  }, undefined);
}

/**
 * The `policy.overridden` event of a deployment created under an override, made from the deployment
 * alone (a replay makes the same one): keyed by the created version, so a retried creation records
 * one. Which refusals it overrode are in the `deployment.created` event's verdicts.
 */
export function overriddenEvent(deployment: Deployment): AuditEvent | undefined {
  const override = deployment.policyOverride;
  if (!override) return undefined;
  return {
    subject: `deployment/${deployment.id}`,
    eventId: `v${String(deployment.version).padStart(6, '0')}-policy-overridden`,
    at: override.at,
    actor: override.by,
    action: 'policy.overridden',
    reason: override.reason,
    details: { service: deployment.service, environment: deployment.environment ?? null, rules: override.rules },
  };
}
