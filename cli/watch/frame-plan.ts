/** The frame's header (who, what, how long, time left in a hold) and its plan with the current step marked. Pure. */
import type { PlanStepSummary, StatusDocument } from '../../shared/http/status-document.js';
import { formatDuration, plural, truncate, type Colors } from './format.js';
import { hasEnded } from './view.js';

export function headerLines(d: StatusDocument, now: Date, c: Colors, width: number): string[] {
  const versions = `${d.baseline ?? '(baseline not resolved yet)'} → ${d.canary}`;
  const time = hasEnded(d) ? `took ${formatDuration(Date.parse(d.updatedAt) - Date.parse(d.createdAt))}` : `elapsed ${formatDuration(now.getTime() - Date.parse(d.createdAt))}`;
  const hold = holdText(d, now);
  const phase = d.phase === d.status ? '' : ` ${c.dim(d.phase)}`;
  return [`${c.bold(d.service)}  ${versions}   ${statusText(d.status, c)}${phase}   ${time}${hold ? `   ${c.yellow(hold)}` : ''}`, c.dim(truncate(d.progress, width))];
}

export function statusText(status: StatusDocument['status'], c: Colors): string {
  if (status === 'SUCCEEDED') return c.green(status);
  if (status === 'TERMINAL') return c.red(status);
  if (status === 'CANCELED') return c.yellow(status);
  if (status === 'RUNNING') return c.cyan(status);
  return c.dim(status);
}

/** Time left in a timed hold, or what a gate waits for; null outside holds (and once ended). */
export function holdText(d: StatusDocument, now: Date): string | null {
  if (!d.hold || hasEnded(d)) return null;
  const step = d.plan?.[d.step.index];
  if (d.hold.kind === 'gate') return step?.kind === 'pause' && step.durationSeconds === null ? 'waiting for promote' : 'paused: waiting for resume';
  const left = d.hold.until === null ? 0 : Date.parse(d.hold.until) - now.getTime();
  // Held by policy: the rules are asked again when the hold ends; say when they said they would allow.
  if (d.heldBy) {
    const allowedIn = d.heldBy.until === null ? null : Date.parse(d.heldBy.until) - now.getTime();
    return `held by ${d.heldBy.rules.join(', ')}: ${allowedIn === null ? `asked again in ${formatDuration(Math.max(0, left))}` : allowedIn > 0 ? `allowed in ${formatDuration(allowedIn)}` : 'allowed now'}`;
  }
  const what = step?.kind === 'analysis' ? 'next judgment' : step?.kind === 'pause' ? 'pause ends' : 'hold ends';
  return left > 0 ? `${what} in ${formatDuration(left)}` : `${what} now`;
}

export function planLines(d: StatusDocument, c: Colors): string[] {
  // A server from before the plan was in the status document: the step counter is all there is.
  if (!Array.isArray(d.plan)) return [`Plan  step ${Math.min(d.step.index + 1, d.step.count)} of ${d.step.count}`];
  const width = String(d.plan.length).length;
  return [
    c.bold('Plan'),
    ...d.plan.map((step, index) => {
      const marker = stepMarker(d, index, c);
      const label = `${String(index + 1).padStart(width)} ${describeStep(step)}`;
      if (index === d.step.index && !hasEnded(d)) return `  ${marker} ${c.bold(label)}`;
      return `  ${marker} ${index > d.step.index ? c.dim(label) : label}`;
    }),
  ];
}

/** ✓ done, ▶ the step being worked on, ✗ where an unsuccessful end stopped, blank for the steps ahead. */
function stepMarker(d: StatusDocument, index: number, c: Colors): string {
  if (index < d.step.index || d.status === 'SUCCEEDED') return c.green('✓');
  if (index > d.step.index) return ' ';
  return hasEnded(d) ? c.red('✗') : c.cyan('▶');
}

export function describeStep(step: PlanStepSummary): string {
  switch (step.kind) {
    case 'setWeight':
      return `setWeight ${step.canaryPercent}%${step.wave ? ` on ${step.wave.join(', ')}` : ''}`;
    case 'pause':
      return step.durationSeconds === null ? 'pause until promoted' : `pause ${formatDuration(step.durationSeconds * 1000)}`;
    case 'analysis':
      return `analysis ${step.template}: ${plural(step.count, 'judgment')}, every ${formatDuration(step.intervalSeconds * 1000)}`;
  }
}
