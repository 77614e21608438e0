/**
 * The rules asked before every traffic step and before the promotion (docs/policy.md "During a
 * run"): a freeze window, a deploy window or a rules service that refuses now holds the run (phase
 * HELD) instead of moving traffic, and the step is tried again when the hold ends. Rules that judge
 * only a creation (caps, required analysis, promotion order) allow here; rollbacks are never held.
 *
 * A retry of the same task is not asked again: its first attempt may have moved part of the
 * traffic already, and leaving the proxies half-way through a step for the length of a freeze is
 * worse than finishing the step that had started before it.
 */
import type { Deployment } from '../../domain/deployment.js';
import { policyHeld } from '../../domain/lifecycle.js';
import type { Verdict } from '../../domain/policy/types.js';
import { checkPolicy, policySubjectOf, type PolicyCheckDeps } from '../policy-check.js';
import { policyDetails } from '../policy-audit.js';
import type { CanaryDeps, CanarySettings } from './deps.js';
import { DEFAULT_RECHECK_SECONDS } from '../../domain/policy/schema.js';
import type { TaskInput } from './run-task.js';

/** The longest a policy hold waits before asking again, even when the rules name a later instant: a changed rule is seen within this. */
export const MAX_POLICY_HOLD_SECONDS = 900;

/** The run's principal, as the rules see it during the run. */
export const RUN_PRINCIPAL = 'crossfade-canary';

export type GateAnswer =
  | { held: false; auditDetails: Record<string, unknown> }
  | { held: true; deployment: Deployment; auditDetails: Record<string, unknown> };

export async function askPolicyBeforeTraffic(deps: PolicyCheckDeps & Pick<CanaryDeps, 'logger'> & { settings?: Pick<CanarySettings, 'policyRecheckSeconds'> }, d: Deployment, input: Pick<TaskInput, 'action'>): Promise<GateAnswer> {
  if (d.retrying?.action === input.action && d.retrying.atVersion === d.version) return { held: false, auditDetails: {} };
  const decision = await checkPolicy(deps, policySubjectOf(d), { moment: 'step', principal: RUN_PRINCIPAL, step: d.stepIndex });
  const auditDetails = decision.verdicts.length > 0 ? { policy: policyDetails(decision) } : {};
  if (decision.allowed) return { held: false, auditDetails };
  const now = deps.clock.now();
  // A refusal an admin overrode at create (break glass) does not hold the run.
  const refusing = decision.verdicts.filter((v) => !v.allowed && v.overridden !== true);
  const recheckSeconds = deps.settings?.policyRecheckSeconds ?? DEFAULT_RECHECK_SECONDS;
  const hold = { rules: refusing.map((v) => v.rule), reason: refusing.map((v) => `${v.rule}: ${v.reason}`).join('; '), until: untilOf(refusing), seconds: waitSeconds(refusing, now, recheckSeconds) };
  deps.logger.warn('canary held by policy', { deploymentId: d.id, service: d.service, stepIndex: d.stepIndex, rules: hold.rules, until: hold.until, recheckInSeconds: hold.seconds });
  return { held: true, deployment: policyHeld(d, hold, now), auditDetails };
}

/** When every refusing rule would allow again (the latest), or null when one cannot say. */
function untilOf(refusing: readonly Verdict[]): string | null {
  if (refusing.some((v) => v.nextAllowedAt === null)) return null;
  return refusing.map((v) => v.nextAllowedAt!).sort().at(-1) ?? null;
}

/** Until the first refusal may have passed (then every rule is asked again), within [1, MAX_POLICY_HOLD_SECONDS]. */
function waitSeconds(refusing: readonly Verdict[], now: Date, recheckSeconds: number): number {
  const each = refusing.map((v) => (v.nextAllowedAt === null ? recheckSeconds : Math.ceil((Date.parse(v.nextAllowedAt) - now.getTime()) / 1000)));
  return Math.min(MAX_POLICY_HOLD_SECONDS, Math.max(1, Math.min(...each)));
}
