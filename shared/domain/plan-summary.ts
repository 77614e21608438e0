/** A compiled plan step, small (an analysis names its template, not its queries): what the status document and the external rules services see. */
import type { Step } from './deployment.js';

export type PlanStepSummary =
  | { kind: 'setWeight'; canaryPercent: number; wave: string[] | null }
  | { kind: 'pause'; durationSeconds: number | null }
  | { kind: 'analysis'; template: string; intervalSeconds: number; count: number };

export function summarizeStep(step: Step): PlanStepSummary {
  // Field by field: whatever a compiled step gains later stays out unless added here.
  if (step.kind === 'setWeight') return { kind: 'setWeight', canaryPercent: step.canaryPercent, wave: step.wave };
  if (step.kind === 'pause') return { kind: 'pause', durationSeconds: step.durationSeconds };
  return { kind: 'analysis', template: step.template.name, intervalSeconds: step.intervalSeconds, count: step.count };
}
