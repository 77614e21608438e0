/**
 * Freeze windows (shared/domain/policy/freeze-window.ts) across both DST changes of 2026 and 2027 in
 * Europe/Berlin, America/New_York and Australia/Sydney. The weekly window Fri 16:00 – Mon 08:00
 * straddles each change's weekend, so its start is read on the old offset and its end on the new
 * one; every instant below is that local time minus the offset in force, worked out by hand
 * (Berlin +01/+02, New York -05/-04, Sydney +10/+11; the change dates are in calendar.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { evaluateFreezeWindow, nextFreezeStart } from '../../../../shared/domain/policy/freeze-window.js';
import type { FreezeWindowRule } from '../../../../shared/domain/policy/types.js';
import { ConfigError } from '../../../../shared/domain/errors.js';

const scope = { services: ['*'], environments: ['*'] };
const weekend = (timeZone: string): FreezeWindowRule => ({
  ...scope,
  kind: 'freeze-window',
  name: 'weekend',
  timeZone,
  weekly: { from: { day: 'Fri', time: '16:00' }, to: { day: 'Mon', time: '08:00' } },
});
const once = (timeZone: string, start: string, end: string): FreezeWindowRule => ({ ...scope, kind: 'freeze-window', name: 'once', timeZone, once: { start, end } });
const at = (iso: string, shiftMs = 0) => new Date(Date.parse(iso) + shiftMs);

describe('a weekly freeze Fri 16:00 – Mon 08:00 over a DST weekend', () => {
  it.each([
    // zone, Fri 16:00 on the old offset, Mon 08:00 on the new one, the next Fri 16:00 on the new one
    ['Europe/Berlin', '2026-03-27T15:00:00.000Z', '2026-03-30T06:00:00.000Z', '2026-04-03T14:00:00.000Z'], // CET → CEST
    ['Europe/Berlin', '2026-10-23T14:00:00.000Z', '2026-10-26T07:00:00.000Z', '2026-10-30T15:00:00.000Z'], // CEST → CET
    ['Europe/Berlin', '2027-03-26T15:00:00.000Z', '2027-03-29T06:00:00.000Z', '2027-04-02T14:00:00.000Z'],
    ['Europe/Berlin', '2027-10-29T14:00:00.000Z', '2027-11-01T07:00:00.000Z', '2027-11-05T15:00:00.000Z'],
    ['America/New_York', '2026-03-06T21:00:00.000Z', '2026-03-09T12:00:00.000Z', '2026-03-13T20:00:00.000Z'], // EST → EDT
    ['America/New_York', '2026-10-30T20:00:00.000Z', '2026-11-02T13:00:00.000Z', '2026-11-06T21:00:00.000Z'], // EDT → EST
    ['America/New_York', '2027-03-12T21:00:00.000Z', '2027-03-15T12:00:00.000Z', '2027-03-19T20:00:00.000Z'],
    ['America/New_York', '2027-11-05T20:00:00.000Z', '2027-11-08T13:00:00.000Z', '2027-11-12T21:00:00.000Z'],
    ['Australia/Sydney', '2026-04-03T05:00:00.000Z', '2026-04-05T22:00:00.000Z', '2026-04-10T06:00:00.000Z'], // AEDT → AEST
    ['Australia/Sydney', '2026-10-02T06:00:00.000Z', '2026-10-04T21:00:00.000Z', '2026-10-09T05:00:00.000Z'], // AEST → AEDT
    ['Australia/Sydney', '2027-04-02T05:00:00.000Z', '2027-04-04T22:00:00.000Z', '2027-04-09T06:00:00.000Z'],
    ['Australia/Sydney', '2027-10-01T06:00:00.000Z', '2027-10-03T21:00:00.000Z', '2027-10-08T05:00:00.000Z'],
  ])('%s: frozen from %s until %s, next from %s', (zone, start, end, following) => {
    const rule = weekend(zone);
    const before = evaluateFreezeWindow(rule, at(start, -1));
    expect(before).toMatchObject({ rule: 'weekend', kind: 'freeze-window', allowed: true, nextAllowedAt: null });
    expect(nextFreezeStart(rule, at(start, -1))?.toISOString()).toBe(start);
    // Twelve hours before the start, still the same week: the next start is the same.
    expect(nextFreezeStart(rule, at(start, -12 * 3_600_000))?.toISOString()).toBe(start);

    for (const inside of [at(start), at(start, 36 * 3_600_000), at(end, -1)]) {
      const verdict = evaluateFreezeWindow(rule, inside);
      expect(verdict.allowed).toBe(false);
      expect(verdict.nextAllowedAt).toBe(end);
      expect(verdict.reason).toContain(`until ${end}`);
      expect(verdict.reason).toContain(`Fri 16:00 – Mon 08:00 ${zone}`);
    }

    expect(evaluateFreezeWindow(rule, at(end))).toMatchObject({ allowed: true, nextAllowedAt: null });
    // From inside (or at the end), the next start is the following Friday, an hour more or less than 168 h on.
    expect(nextFreezeStart(rule, at(start))?.toISOString()).toBe(following);
    expect(nextFreezeStart(rule, at(end))?.toISOString()).toBe(following);
  });

  it('wraps over the week end whichever day `now` falls on (Sunday in Berlin, mid-window)', () => {
    // Sun 3 Jan 2027 12:00 CET = 11:00Z; the window ends Mon 4 Jan 08:00 CET = 07:00Z.
    expect(evaluateFreezeWindow(weekend('Europe/Berlin'), at('2027-01-03T11:00:00.000Z')).nextAllowedAt).toBe('2027-01-04T07:00:00.000Z');
  });

  it('starts a window set in the spring-forward gap when the clocks jump', () => {
    // Sun 02:30 does not exist in Berlin on 29 Mar 2026: the freeze starts at the change, 01:00Z
    // (03:00 CEST), and ends Sun 05:00 CEST = 03:00Z.
    const rule: FreezeWindowRule = { ...weekend('Europe/Berlin'), weekly: { from: { day: 'Sun', time: '02:30' }, to: { day: 'Sun', time: '05:00' } } };
    expect(nextFreezeStart(rule, at('2026-03-28T12:00:00.000Z'))?.toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(evaluateFreezeWindow(rule, at('2026-03-29T01:00:00.000Z', -1)).allowed).toBe(true);
    expect(evaluateFreezeWindow(rule, at('2026-03-29T01:00:00.000Z')).nextAllowedAt).toBe('2026-03-29T03:00:00.000Z');
    // The week after, an ordinary Sunday: 02:30 CEST = 00:30Z.
    expect(nextFreezeStart(rule, at('2026-03-29T03:00:00.000Z'))?.toISOString()).toBe('2026-04-05T00:30:00.000Z');
  });
});

describe('a one-off freeze', () => {
  const christmas = once('Europe/Berlin', '2026-12-24T00:00', '2026-12-27T00:00');

  it.each([
    // 24 Dec 00:00 CET = 23 Dec 23:00Z; 27 Dec 00:00 CET = 26 Dec 23:00Z.
    ['2026-12-23T22:59:59.999Z', true, null, '2026-12-23T23:00:00.000Z'],
    ['2026-12-23T23:00:00.000Z', false, '2026-12-26T23:00:00.000Z', null],
    ['2026-12-25T12:00:00.000Z', false, '2026-12-26T23:00:00.000Z', null],
    ['2026-12-26T22:59:59.999Z', false, '2026-12-26T23:00:00.000Z', null],
    ['2026-12-26T23:00:00.000Z', true, null, null],
  ])('at %s allowed=%s, next allowed %s, next start %s', (now, allowed, nextAllowedAt, nextStart) => {
    expect(evaluateFreezeWindow(christmas, at(now))).toMatchObject({ allowed, nextAllowedAt });
    expect(nextFreezeStart(christmas, at(now))?.toISOString() ?? null).toBe(nextStart);
  });

  it('takes the first occurrence of a repeated hour', () => {
    // New York, 1 Nov 2026: 01:30–01:45 happens first on EDT (05:30Z–05:45Z), again on EST (06:30Z–06:45Z).
    const rule = once('America/New_York', '2026-11-01T01:30', '2026-11-01T01:45');
    expect(evaluateFreezeWindow(rule, at('2026-11-01T05:35:00.000Z'))).toMatchObject({ allowed: false, nextAllowedAt: '2026-11-01T05:45:00.000Z' });
    expect(evaluateFreezeWindow(rule, at('2026-11-01T06:35:00.000Z')).allowed).toBe(true);
  });

  it('ends a window set in the gap when the clocks jump (Sydney, 4 Oct 2026)', () => {
    // Until 02:30, which does not exist: the window ends at the change, 16:00Z on 3 Oct.
    const rule = once('Australia/Sydney', '2026-10-03T22:00', '2026-10-04T02:30');
    expect(evaluateFreezeWindow(rule, at('2026-10-03T15:00:00.000Z')).nextAllowedAt).toBe('2026-10-03T16:00:00.000Z');
    expect(evaluateFreezeWindow(rule, at('2026-10-03T16:00:00.000Z')).allowed).toBe(true);
  });

  it('never freezes when it ends before it starts, nor a weekly window whose ends are equal', () => {
    expect(evaluateFreezeWindow(once('UTC', '2026-12-27T00:00', '2026-12-24T00:00'), at('2026-12-25T00:00:00.000Z')).allowed).toBe(true);
    const equal: FreezeWindowRule = { ...weekend('UTC'), weekly: { from: { day: 'Fri', time: '16:00' }, to: { day: 'Fri', time: '16:00' } } };
    expect(evaluateFreezeWindow(equal, at('2026-12-25T16:00:00.000Z')).allowed).toBe(true);
    expect(nextFreezeStart(equal, at('2026-12-25T16:00:00.000Z'))).toBeNull();
  });

  it('refuses a rule with a bad time, naming the rule and the field', () => {
    expect(() => evaluateFreezeWindow(once('UTC', '2026-12-24T25:00', '2026-12-27T00:00'), at('2026-12-25T00:00:00.000Z'))).toThrow(ConfigError);
    expect(() => evaluateFreezeWindow(once('UTC', '2026-12-24T25:00', '2026-12-27T00:00'), at('2026-12-25T00:00:00.000Z'))).toThrow(/^once\.once\.start: /);
  });
});
