/** The status document (docs/api.md): what Spinnaker's webhook stage polls and matches on. */
import { statusOf, type Deployment, type DeploymentStatus, type Phase, type Step, type Weights } from '../domain/deployment.js';
import { describeProgress } from '../domain/progress.js';

export interface StatusDocument {
  id: string;
  service: string;
  /** The environment named at create; null when none was. */
  environment: string | null;
  status: DeploymentStatus;
  progress: string;
  phase: Phase;
  step: { index: number; count: number };
  planHash: string;
  /** The compiled plan, one small entry per step (an analysis names its template, not its queries): what `step.index` points into. */
  plan: PlanStepSummary[];
  /** The hold the run waits in at the current step: a timed one says when it ends (`until`), a gate (manual, or an operator's pause) has none. */
  hold: { kind: 'wait' | 'gate'; since: string; until: string | null } | null;
  /** Phase HELD: the rules that hold the run, why, and until when (null: a rules service that cannot say; `hold.until` is when they are asked again). */
  heldBy: { rules: string[]; reason: string; since: string; until: string | null } | null;
  baseline: string | null;
  canary: string;
  weights: Weights;
  statusUrl: string;
  cancelUrl: string;
  result: Record<string, unknown> | null;
  /** Proxy groups the last traffic step could not verify (they list no proxies): written and published, never confirmed. */
  unverified: string[];
  /** The task being retried now, if any ("retrying … attempt 2 of 7" in progress says the same). */
  retrying: { action: string; attempt: number; maxAttempts: number | null; reason: string; at: string } | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A step as the status document shows it. The document is copied into Spinnaker's execution on
 * every poll, so it stays small: a template's metrics and queries are left out (they are in `/events`).
 */
export type PlanStepSummary =
  | { kind: 'setWeight'; canaryPercent: number; wave: string[] | null }
  | { kind: 'pause'; durationSeconds: number | null }
  | { kind: 'analysis'; template: string; intervalSeconds: number; count: number };

export function deploymentUrl(baseUrl: string, id: string): string {
  return `${baseUrl}/v1/deployments/${encodeURIComponent(id)}`;
}

export function statusDocument(d: Deployment, baseUrl: string): StatusDocument {
  const statusUrl = deploymentUrl(baseUrl, d.id);
  return {
    id: d.id,
    service: d.service,
    environment: d.environment ?? null,
    status: statusOf(d.phase),
    progress: describeProgress(d),
    phase: d.phase,
    step: { index: d.stepIndex, count: d.steps.length },
    planHash: d.planHash,
    plan: d.steps.map(summarizeStep),
    hold: holdOf(d),
    heldBy: d.run.policyHold ? { rules: d.run.policyHold.rules, reason: d.run.policyHold.reason, since: d.run.policyHold.since, until: d.run.policyHold.until } : null,
    baseline: d.baseline?.version ?? null,
    canary: d.canary.version,
    weights: d.weights,
    statusUrl,
    cancelUrl: `${statusUrl}/cancel`,
    result: d.result,
    unverified: d.run.unverified,
    retrying: d.retrying && d.retrying.atVersion === d.version ? { action: d.retrying.action, attempt: d.retrying.attempt, maxAttempts: d.retrying.maxAttempts, reason: d.retrying.reason, at: d.retrying.at } : null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

function summarizeStep(step: Step): PlanStepSummary {
  // Field by field: whatever a compiled step gains later stays out of the document unless added here.
  if (step.kind === 'setWeight') return { kind: 'setWeight', canaryPercent: step.canaryPercent, wave: step.wave };
  if (step.kind === 'pause') return { kind: 'pause', durationSeconds: step.durationSeconds };
  return { kind: 'analysis', template: step.template.name, intervalSeconds: step.intervalSeconds, count: step.count };
}

/** A hold opened at an earlier step is being closed (progress.ts reads it the same way). */
function holdOf(d: Deployment): StatusDocument['hold'] {
  const hold = d.run.hold;
  if (hold === null || hold.stepIndex !== d.stepIndex) return null;
  const until = hold.kind === 'wait' ? new Date(Date.parse(hold.since) + hold.seconds * 1000).toISOString() : null;
  return { kind: hold.kind, since: hold.since, until };
}
