/** Building verdicts: every rule says why it allows as well as why it refuses. */
import type { PolicyRule, Verdict } from './types.js';

export function allow(rule: PolicyRule, reason: string): Verdict {
  return { rule: rule.name, kind: rule.kind, allowed: true, reason, nextAllowedAt: null };
}

/** @param nextAllowedAt only for refusals that pass with time (calendar rules); null otherwise. */
export function refuse(rule: PolicyRule, reason: string, nextAllowedAt: Date | null = null): Verdict {
  return { rule: rule.name, kind: rule.kind, allowed: false, reason, nextAllowedAt: nextAllowedAt?.toISOString() ?? null };
}

/** The rule checks another moment than the one asked about (a cap counts starts, not steps). */
export function notThisMoment(rule: PolicyRule, checkedAt: string, moment: string): Verdict {
  return allow(rule, `${rule.kind} "${rule.name}" is checked at ${checkedAt}, not at ${moment}`);
}
