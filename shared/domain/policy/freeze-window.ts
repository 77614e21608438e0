/** STUB until engineer P's branch (i10-p) is merged: the lead keeps P's freeze-window.ts. */
import type { FreezeWindowRule, Verdict } from './types.js';

export function evaluateFreezeWindow(rule: FreezeWindowRule, now: Date): Verdict {
  return { rule: rule.name, kind: rule.kind, allowed: true, reason: `stub: freeze windows are not evaluated yet (${now.toISOString()})`, nextAllowedAt: null };
}
