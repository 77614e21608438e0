/**
 * Deploy windows (shared/domain/policy/deploy-window.ts): open only on the listed days between
 * `from` and `to`, local times; `to` at or before `from` runs past midnight. Every instant below is
 * the local time minus the offset in force that moment, worked out by hand (Berlin CET +01 / CEST
 * +02, New York EST -05 / EDT -04, Sydney AEST +10 / AEDT +11; change dates in calendar.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { evaluateDeployWindow } from '../../../../shared/domain/policy/deploy-window.js';
import type { DeployWindowRule, Weekday } from '../../../../shared/domain/policy/types.js';

const window = (timeZone: string, days: Weekday[], from: string, to: string): DeployWindowRule => ({
  services: ['*'],
  environments: ['*'],
  kind: 'deploy-window',
  name: 'hours',
  timeZone,
  days,
  from,
  to,
});
const weekdays: Weekday[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];
const everyDay: Weekday[] = [...weekdays, 'Sat', 'Sun'];

describe('evaluateDeployWindow', () => {
  it.each([
    // Berlin office hours Mon–Fri 09:00–17:00 over the spring change (Sun 29 Mar 2026).
    // Fri 27 Mar 16:59 CET = 15:59Z open; 17:00 CET = 16:00Z closed until Mon 30 Mar 09:00 CEST = 07:00Z.
    ['Europe/Berlin', weekdays, '09:00', '17:00', '2026-03-27T15:59:59.999Z', null],
    ['Europe/Berlin', weekdays, '09:00', '17:00', '2026-03-27T16:00:00.000Z', '2026-03-30T07:00:00.000Z'],
    ['Europe/Berlin', weekdays, '09:00', '17:00', '2026-03-30T06:59:59.999Z', '2026-03-30T07:00:00.000Z'],
    ['Europe/Berlin', weekdays, '09:00', '17:00', '2026-03-30T07:00:00.000Z', null],
    // Autumn 2027 (Sun 31 Oct): Sat 30 Oct noon CEST = 10:00Z closed until Mon 1 Nov 09:00 CET = 08:00Z.
    ['Europe/Berlin', weekdays, '09:00', '17:00', '2027-10-30T10:00:00.000Z', '2027-11-01T08:00:00.000Z'],
    // Sydney nights 22:00–06:00 every day, over the night summer time starts (Sat 3 – Sun 4 Oct 2026):
    // opens Sat 22:00 AEST = 12:00Z, closes Sun 06:00 AEDT = 19:00Z (seven hours, not eight),
    // reopens Sun 22:00 AEDT = 11:00Z on 4 Oct.
    ['Australia/Sydney', everyDay, '22:00', '06:00', '2026-10-03T11:59:59.999Z', '2026-10-03T12:00:00.000Z'],
    ['Australia/Sydney', everyDay, '22:00', '06:00', '2026-10-03T12:00:00.000Z', null],
    ['Australia/Sydney', everyDay, '22:00', '06:00', '2026-10-03T18:59:59.999Z', null],
    ['Australia/Sydney', everyDay, '22:00', '06:00', '2026-10-03T19:00:00.000Z', '2026-10-04T11:00:00.000Z'],
    // The night summer time ends (Sat 4 – Sun 5 Apr 2026): Sat 22:00 AEDT = 11:00Z to Sun 06:00 AEST
    // = 20:00Z (nine hours); then Sun 22:00 AEST = 12:00Z on 5 Apr.
    ['Australia/Sydney', everyDay, '22:00', '06:00', '2026-04-04T19:59:59.999Z', null],
    ['Australia/Sydney', everyDay, '22:00', '06:00', '2026-04-04T20:00:00.000Z', '2026-04-05T12:00:00.000Z'],
    // A window opening only on Fridays runs into Saturday morning, not Friday's early hours:
    // Fri 2 Apr 2027 03:00 AEDT = Thu 1 Apr 16:00Z closed until Fri 22:00 AEDT = 11:00Z on 2 Apr.
    ['Australia/Sydney', ['Fri'], '22:00', '06:00', '2027-04-01T16:00:00.000Z', '2027-04-02T11:00:00.000Z'],
    ['Australia/Sydney', ['Fri'], '22:00', '06:00', '2027-04-02T18:59:59.999Z', null], // Sat 05:59:59 AEDT,
    // New York, Sundays 00:00–00:00 (the whole day): Sun 1 Nov 2026 lasts 25 hours, from 00:00 EDT
    // = 04:00Z to Mon 00:00 EST = 05:00Z on 2 Nov; then Sun 8 Nov 00:00 EST = 05:00Z.
    ['America/New_York', ['Sun'], '00:00', '00:00', '2026-11-01T03:59:59.999Z', '2026-11-01T04:00:00.000Z'],
    ['America/New_York', ['Sun'], '00:00', '00:00', '2026-11-02T04:59:59.999Z', null],
    ['America/New_York', ['Sun'], '00:00', '00:00', '2026-11-02T05:00:00.000Z', '2026-11-08T05:00:00.000Z'],
    // Opening in the spring-forward gap (Sun 14 Mar 2027, 02:30 does not exist): the window opens
    // when the clocks jump, 07:00Z; at 01:59 EST = 06:59Z it is closed until then.
    ['America/New_York', ['Sun'], '02:30', '04:00', '2027-03-14T06:59:00.000Z', '2027-03-14T07:00:00.000Z'],
    ['America/New_York', ['Sun'], '02:30', '04:00', '2027-03-14T07:00:00.000Z', null],
    // Opening in the repeated hour (Sun 7 Nov 2027, 01:30 twice): it opens at the first, 01:30 EDT
    // = 05:30Z, and closes 03:00 EST = 08:00Z; next Sun 14 Nov 01:30 EST = 06:30Z.
    ['America/New_York', ['Sun'], '01:30', '03:00', '2027-11-07T05:29:59.999Z', '2027-11-07T05:30:00.000Z'],
    ['America/New_York', ['Sun'], '01:30', '03:00', '2027-11-07T07:59:59.999Z', null],
    ['America/New_York', ['Sun'], '01:30', '03:00', '2027-11-07T08:00:00.000Z', '2027-11-14T06:30:00.000Z'],
  ])('%s %j %s–%s at %s: next allowed %s', (zone, days, from, to, now, nextAllowedAt) => {
    const verdict = evaluateDeployWindow(window(zone, days as Weekday[], from, to), new Date(now));
    expect(verdict).toMatchObject({ rule: 'hours', kind: 'deploy-window', allowed: nextAllowedAt === null, nextAllowedAt });
    expect(verdict.reason).toContain(nextAllowedAt === null ? 'is open' : `is closed until ${nextAllowedAt}`);
  });

  it('never opens without days, and says so', () => {
    const verdict = evaluateDeployWindow(window('UTC', [], '09:00', '17:00'), new Date('2026-12-07T10:00:00.000Z'));
    expect(verdict).toMatchObject({ allowed: false, nextAllowedAt: null });
    expect(verdict.reason).toContain('never opens');
  });

  it('refuses a bad day name, naming the rule and the field', () => {
    expect(() => evaluateDeployWindow(window('UTC', ['Monday' as Weekday], '09:00', '17:00'), new Date('2026-12-07T10:00:00.000Z'))).toThrow(/^hours\.days\[0\]: /);
  });
});
