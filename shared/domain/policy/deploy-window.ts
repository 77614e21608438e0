/**
 * Deploy windows (docs/policy.md, "Calendar rules"): deploys only on the listed days, from `from`
 * (inclusive) to `to` (exclusive), local times in the rule's zone. A window whose `to` is at or
 * before its `from` runs past midnight into the next day (22:00–06:00; 00:00–00:00 is the whole
 * day); `days` are the days a window opens. A refusal names the next opening.
 */
import { DAY_MS, MINUTE_MS, instantOf, mergeTouching, parseLocalTime, parseWeekday, startOfDay, wallTimeAt, weekdayOf, type Span } from './calendar.js';
import type { DeployWindowRule, Verdict } from './types.js';

export function evaluateDeployWindow(rule: DeployWindowRule, now: Date): Verdict {
  const at = now.getTime();
  const spans = openings(rule, at);
  const terms = `deploy window "${rule.name}" (${rule.days.join(', ')} ${rule.from}–${rule.to} ${rule.timeZone})`;
  if (spans.some((span) => span.start <= at && at < span.end)) {
    return { rule: rule.name, kind: rule.kind, allowed: true, reason: `${terms} is open`, nextAllowedAt: null };
  }
  const next = spans.find((span) => span.start > at);
  const nextAllowedAt = next ? new Date(next.start).toISOString() : null;
  const reason = nextAllowedAt ? `${terms} is closed until ${nextAllowedAt}` : `${terms} lists no days: it never opens`;
  return { rule: rule.name, kind: rule.kind, allowed: false, reason, nextAllowedAt };
}

/**
 * The windows opening on the day before `at`'s local day through the seventh day after: the one
 * open now (at most a day long, so it opened yesterday or today) and the next opening are among them.
 */
function openings(rule: DeployWindowRule, at: number): Span[] {
  const from = parseLocalTime(rule.from, `${rule.name}.from`) * MINUTE_MS;
  let to = parseLocalTime(rule.to, `${rule.name}.to`) * MINUTE_MS;
  if (to <= from) to += DAY_MS;
  const days = new Set(rule.days.map((day, index) => parseWeekday(day, `${rule.name}.days[${index}]`)));
  const today = startOfDay(wallTimeAt(at, rule.timeZone));
  const spans: Span[] = [];
  for (let offset = -1; offset <= 7; offset += 1) {
    const midnight = today + offset * DAY_MS;
    if (!days.has(weekdayOf(midnight))) continue;
    spans.push({ start: instantOf(midnight + from, rule.timeZone), end: instantOf(midnight + to, rule.timeZone) });
  }
  return mergeTouching(spans.filter((span) => span.start < span.end));
}
