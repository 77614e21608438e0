/**
 * The 50 rules both policy scenarios judge: every kind, each applying to the bench's services in
 * environment `prod`, in several IANA zones, the way a company's crossfade.yaml grows. Built around
 * a moment so the stack's creates are allowed: the one-off freezes are past, the weekly ones fall
 * three days away, the deploy windows span whole days, the caps are far above what runs.
 */
import type { PolicyRule, Weekday } from '../../shared/domain/policy/types.js';
import { WEEKDAYS } from '../../shared/domain/policy/types.js';

export const RULE_COUNT = 50;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'UTC', 'Asia/Kolkata', 'America/Los_Angeles', 'Europe/London', 'Asia/Tokyo'] as const;
const scope = { services: ['bench-*', 'create-*'], environments: ['prod', 'pr*'] };

/** Monday-based weekday of `at` in UTC, `days` later. */
function weekdayAfter(at: Date, days: number): Weekday {
  return WEEKDAYS[(at.getUTCDay() + 6 + days) % 7]!;
}

/**
 * @param around the moment the rules must allow (the weekly freezes keep three days away from it).
 * @param promotedFrom the environment promotion order asks for: where the bench's version SUCCEEDED,
 *   or `prod` itself (deploying to `after` is allowed) when nothing succeeded anywhere.
 */
export function fiftyRules(around: Date, promotedFrom: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  ZONES.forEach((timeZone, i) => {
    rules.push({ name: `freeze-once-${i}`, kind: 'freeze-window', ...scope, timeZone, once: { start: `202${i % 6}-12-24T00:00`, end: `202${i % 6}-12-27T00:00` } });
    const day = weekdayAfter(around, 3);
    rules.push({ name: `freeze-weekly-${i}`, kind: 'freeze-window', ...scope, timeZone, weekly: { from: { day, time: `${10 + (i % 4)}:00` }, to: { day, time: `${14 + (i % 4)}:30` } } });
    rules.push({ name: `deploy-window-${i}`, kind: 'deploy-window', ...scope, timeZone, days: [...WEEKDAYS], from: '00:00', to: '00:00' });
    rules.push({ name: `cap-${i}`, kind: 'concurrency-cap', ...scope, max: 10_000, per: (['global', 'cloud', 'proxy-group'] as const)[i % 3]! });
  });
  for (let i = 0; i < 6; i++) rules.push({ name: `analysis-${i}`, kind: 'required-analysis', ...scope, minJudgments: 1 });
  for (let i = 0; i < 4; i++) rules.push({ name: `order-${i}`, kind: 'promotion-order', ...scope, after: promotedFrom });
  for (let i = 0; i < 4; i++) rules.push({ name: `four-eyes-${i}`, kind: 'four-eyes', ...scope });
  for (let i = 0; i < 4; i++) rules.push({ name: `dependency-${i}`, kind: 'dependency-health', ...scope, dependsOn: [`auth-${i}`, `inventory-${i}`, 'payments'] });
  if (rules.length !== RULE_COUNT) throw new Error(`the bench's rule set has ${rules.length} rules, not ${RULE_COUNT}`);
  return rules;
}
