/**
 * A deployment's `progress`: one line, always present, saying where it is (Spinnaker's
 * `progressJsonPath` shows it in the pipeline view) — the step and what it is doing, a hold's end,
 * a task being retried, groups that could not be verified, and the reason of an end.
 */
import type { Deployment, Step } from './deployment.js';

/** A one-line, always-present account of where the deployment is (Spinnaker's `progressJsonPath`). */
export function describeProgress(d: Deployment): string {
  const retrying = d.retrying && d.retrying.atVersion === d.version ? ` (retrying: ${d.retrying.reason}, attempt ${d.retrying.attempt}${d.retrying.maxAttempts ? ` of ${d.retrying.maxAttempts}` : ''})` : '';
  const unverified = d.run.unverified.length > 0 ? ` [unverified: ${d.run.unverified.join(', ')}]` : '';
  return `${phaseProgress(d)}${retrying}${unverified}`;
}

function phaseProgress(d: Deployment): string {
  const total = d.steps.length;
  const at = `step ${Math.min(d.stepIndex + 1, total)}/${total}`;
  const step = d.steps[d.stepIndex];
  const why = d.run.outcome ? `: ${d.run.outcome.reason}` : '';
  switch (d.phase) {
    case 'PENDING':
      return `accepted, waiting to start: ${total} step${total === 1 ? '' : 's'} planned`;
    case 'SUCCEEDED':
      return `promoted: ${d.canary.version} serves 100%${d.run.outcome?.requestedBy ? ` (${d.run.outcome.reason})` : ''}`;
    case 'ROLLED_BACK':
      return `rolled back at ${at}${why}`;
    case 'CANCELED':
      // The outcome's reason reads "canceled by alice: why" (lifecycle.ts): "canceled at step 2/3 by alice: why".
      return `canceled at ${at}${d.run.outcome ? ` ${d.run.outcome.reason.replace(/^canceled /, '')}` : ''}`;
    case 'FAILED':
      return `failed at ${at}${why}`;
    case 'ROLLING_BACK':
      return `rolling back from ${at}${why}`;
    case 'HELD': {
      const held = d.run.policyHold;
      const next = d.stepIndex >= total || d.run.outcome?.kind === 'promote' ? 'the promotion' : `${at} (${describeStep(step)})`;
      return `held by policy before ${next}: ${held?.reason ?? 'the rules refuse it now'}${held?.until ? `; allowed again at ${held.until}` : '; asked again shortly'}`;
    }
    case 'PROMOTING':
      return `promoting: ${d.canary.version} to 100%${why}`;
    default:
      if (d.run.paused) return `${at}: paused by an operator, waiting for resume`;
      return `${at}: ${stepProgress(d, step)}`;
  }
}

function stepProgress(d: Deployment, step: Step | undefined): string {
  const hold = d.run.hold?.kind === 'wait' && d.run.hold.stepIndex === d.stepIndex ? d.run.hold : null;
  const ends = hold ? new Date(Date.parse(hold.since) + hold.seconds * 1000).toISOString() : '';
  switch (step?.kind) {
    case 'setWeight':
      return d.phase === 'CONVERGING' ? `waiting for every proxy to serve ${step.canaryPercent}%` : `shifting to ${step.canaryPercent}%`;
    case 'pause':
      return step.durationSeconds === null ? 'waiting for promote (manual gate)' : `pause, ${d.run.waitedSeconds}s of ${step.durationSeconds}s waited${hold ? `, until ${ends}` : ''}`;
    case 'analysis': {
      const last = d.run.judgments.filter((j) => j.stepIndex === d.stepIndex).at(-1);
      return `analysis ${d.run.analysisRuns}/${step.count}${last ? `, score ${last.score}` : ''}${hold ? `, next judgment at ${ends}` : ''}`;
    }
    default:
      return d.phase.toLowerCase().replace('_', ' ');
  }
}

function describeStep(step: Step | undefined): string {
  return step?.kind === 'setWeight' ? `shift to ${step.canaryPercent}%` : (step?.kind ?? 'promotion');
}
