/** STUB until engineer P's branch (i10-p) is merged: the lead keeps P's deploy-window.ts. */
import type { DeployWindowRule, Verdict } from './types.js';

export function evaluateDeployWindow(rule: DeployWindowRule, now: Date): Verdict {
  return { rule: rule.name, kind: rule.kind, allowed: true, reason: `stub: deploy windows are not evaluated yet (${now.toISOString()})`, nextAllowedAt: null };
}
