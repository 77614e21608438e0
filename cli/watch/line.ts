/**
 * The watch off a terminal (a pipe, a CI log): one line per change, no escape codes (docs/watch.md):
 * `12:00:03 RUNNING step 2/5 weight 25% step 2/5: shifting to 25%`. Pure.
 */
import type { StatusDocument } from '../../shared/http/status-document.js';
import { formatClock } from './format.js';
import { canaryPercent, type Trouble } from './view.js';

/** The line without its time: a new line is printed when this changes. */
export function lineState(d: StatusDocument): string {
  // progress opens with the step while the run is in one: said once.
  return `${d.status} step ${Math.min(d.step.index + 1, d.step.count)}/${d.step.count} weight ${weightText(d)} ${d.progress.replace(/^step \d+\/\d+: /, '')}`;
}

export function renderLine(d: StatusDocument, now: Date): string {
  return `${formatClock(now)} ${lineState(d)}`;
}

export function renderTroubleLine(trouble: Trouble, now: Date): string {
  return `${formatClock(now)} cannot read the deployment (attempt ${trouble.attempts}): ${trouble.message}; retrying`;
}

/** The canary's percent: one number when every cloud has the same, else per cloud (`aws 5% gcp 25%`). */
function weightText(d: StatusDocument): string {
  const clouds = Object.keys(d.weights).sort();
  const percents = clouds.map((cloud) => canaryPercent(d.weights[cloud as keyof typeof d.weights], d.canary));
  if (percents.length === 0) return '0%';
  if (percents.every((p) => p === percents[0])) return `${percents[0]}%`;
  return clouds.map((cloud, i) => `${cloud} ${percents[i]}%`).join(' ');
}
