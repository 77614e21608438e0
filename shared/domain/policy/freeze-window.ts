/**
 * Freeze windows (docs/policy.md, "Calendar rules"): no deploys from a window's start (inclusive)
 * to its end (exclusive), local times in the rule's zone, DST resolved as shared/domain/policy/calendar.ts
 * says. A refusal names the end of the window as the time the rule next allows.
 */
import { DAY_MS, MINUTE_MS, instantOf, mergeTouching, parseLocalDateTime, parseLocalTime, parseWeekday, startOfWeek, wallTimeAt, type Span, type WallTime } from './calendar.js';
import { type FreezeWindowRule, type Verdict } from './types.js';

export function evaluateFreezeWindow(rule: FreezeWindowRule, now: Date): Verdict {
  const at = now.getTime();
  const current = freezeSpans(rule, at).find((span) => span.start <= at && at < span.end);
  const terms = `freeze window "${rule.name}" (${describeFreeze(rule)})`;
  if (!current) return { rule: rule.name, kind: rule.kind, allowed: true, reason: `${terms} is not in force`, nextAllowedAt: null };
  const until = new Date(current.end).toISOString();
  return { rule: rule.name, kind: rule.kind, allowed: false, reason: `${terms} is in force until ${until}`, nextAllowedAt: until };
}

/** The first instant strictly after `now` at which the rule starts refusing; null if it never will again. */
export function nextFreezeStart(rule: FreezeWindowRule, now: Date): Date | null {
  const at = now.getTime();
  const next = freezeSpans(rule, at).find((span) => span.start > at);
  return next ? new Date(next.start) : null;
}

/**
 * The rule's windows near `at`, in order, touching ones merged (a weekly window whose end falls on
 * the next one's start freezes straight through). Weekly: the occurrences starting in the week
 * before `at`'s, its own and the two after, which covers every window holding `at` and the next start.
 */
function freezeSpans(rule: FreezeWindowRule, at: number): Span[] {
  const spans: Span[] = [];
  if (rule.once) {
    const start = instantOf(parseLocalDateTime(rule.once.start, `${rule.name}.once.start`), rule.timeZone);
    const end = instantOf(parseLocalDateTime(rule.once.end, `${rule.name}.once.end`), rule.timeZone);
    if (start < end) spans.push({ start, end });
  }
  if (rule.weekly) {
    const from = weekOffset(rule.weekly.from, `${rule.name}.weekly.from`);
    let to = weekOffset(rule.weekly.to, `${rule.name}.weekly.to`);
    // Equal ends are an empty window, not a week-long one: a freeze that never lifts is no calendar rule.
    if (to !== from) {
      if (to < from) to += 7 * DAY_MS;
      const thisWeek = startOfWeek(wallTimeAt(at, rule.timeZone));
      for (let week = -1; week <= 2; week += 1) {
        const monday: WallTime = thisWeek + week * 7 * DAY_MS;
        spans.push({ start: instantOf(monday + from, rule.timeZone), end: instantOf(monday + to, rule.timeZone) });
      }
    }
  }
  return mergeTouching(spans.filter((span) => span.start < span.end));
}

/** Milliseconds from Monday 00:00 to `day time`, on the wall clock. */
function weekOffset(moment: { day: string; time: string }, field: string): number {
  return parseWeekday(moment.day, `${field}.day`) * DAY_MS + parseLocalTime(moment.time, `${field}.time`) * MINUTE_MS;
}

function describeFreeze(rule: FreezeWindowRule): string {
  const terms: string[] = [];
  if (rule.once) terms.push(`${rule.once.start} – ${rule.once.end}`);
  if (rule.weekly) terms.push(`${rule.weekly.from.day} ${rule.weekly.from.time} – ${rule.weekly.to.day} ${rule.weekly.to.time}`);
  return `${terms.join(', ')} ${rule.timeZone}`;
}
