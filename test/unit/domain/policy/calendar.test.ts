/**
 * Wall clock ↔ instant in IANA zones (shared/domain/policy/calendar.ts), around both DST changes of
 * 2026 and 2027 in a zone of each kind: Europe/Berlin (CET +01 / CEST +02, changes at 01:00Z on the
 * last Sundays of March and October), America/New_York (EST -05 / EDT -04, at 02:00 local on the
 * second Sunday of March and the first of November), Australia/Sydney (AEST +10 / AEDT +11, the
 * southern hemisphere: summer time ends the first Sunday of April, starts the first of October).
 * Each expected instant is the local reading minus the offset in force, worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { checkTimeZone, instantOf, parseLocalDateTime, parseLocalTime, parseWeekday, wallTimeAt } from '../../../../shared/domain/policy/calendar.js';
import { ConfigError } from '../../../../shared/domain/errors.js';

const instant = (local: string, zone: string) => new Date(instantOf(parseLocalDateTime(local, 'at'), zone)).toISOString();

describe('instantOf', () => {
  it.each([
    // Europe/Berlin, spring 2026 (Sun 29 Mar, 02:00 CET → 03:00 CEST): 01:59 is CET, 03:00 CEST.
    ['Europe/Berlin', '2026-03-29T01:59', '2026-03-29T00:59:00.000Z'],
    ['Europe/Berlin', '2026-03-29T03:00', '2026-03-29T01:00:00.000Z'],
    // 02:00 and 02:30 do not exist: the first instant after the gap is the change, 01:00Z.
    ['Europe/Berlin', '2026-03-29T02:00', '2026-03-29T01:00:00.000Z'],
    ['Europe/Berlin', '2026-03-29T02:30', '2026-03-29T01:00:00.000Z'],
    // Autumn 2026 (Sun 25 Oct, 03:00 CEST → 02:00 CET): 02:30 happens twice; the first is CEST.
    ['Europe/Berlin', '2026-10-25T02:30', '2026-10-25T00:30:00.000Z'],
    ['Europe/Berlin', '2026-10-25T03:00', '2026-10-25T02:00:00.000Z'],
    // 2027: Sun 28 Mar and Sun 31 Oct.
    ['Europe/Berlin', '2027-03-28T02:15', '2027-03-28T01:00:00.000Z'],
    ['Europe/Berlin', '2027-03-28T12:00', '2027-03-28T10:00:00.000Z'],
    ['Europe/Berlin', '2027-10-31T02:15', '2027-10-31T00:15:00.000Z'],
    ['Europe/Berlin', '2027-10-31T12:00', '2027-10-31T11:00:00.000Z'],
    // America/New_York, 2026: Sun 8 Mar the gap is 02:00–03:00 EST (change at 07:00Z);
    // Sun 1 Nov 01:00–02:00 repeats, first as EDT.
    ['America/New_York', '2026-03-08T01:59', '2026-03-08T06:59:00.000Z'],
    ['America/New_York', '2026-03-08T02:30', '2026-03-08T07:00:00.000Z'],
    ['America/New_York', '2026-03-08T03:00', '2026-03-08T07:00:00.000Z'],
    ['America/New_York', '2026-11-01T01:30', '2026-11-01T05:30:00.000Z'],
    ['America/New_York', '2026-11-01T02:00', '2026-11-01T07:00:00.000Z'],
    // 2027: Sun 14 Mar and Sun 7 Nov.
    ['America/New_York', '2027-03-14T02:45', '2027-03-14T07:00:00.000Z'],
    ['America/New_York', '2027-11-07T01:45', '2027-11-07T05:45:00.000Z'],
    ['America/New_York', '2027-11-07T00:59', '2027-11-07T04:59:00.000Z'],
    // Australia/Sydney, 2026: Sun 5 Apr 02:00–03:00 repeats, first as AEDT (+11);
    // Sun 4 Oct 02:00–03:00 is skipped (change at 16:00Z on the 3rd).
    ['Australia/Sydney', '2026-04-05T02:30', '2026-04-04T15:30:00.000Z'],
    ['Australia/Sydney', '2026-04-05T03:00', '2026-04-04T17:00:00.000Z'],
    ['Australia/Sydney', '2026-10-04T01:59', '2026-10-03T15:59:00.000Z'],
    ['Australia/Sydney', '2026-10-04T02:30', '2026-10-03T16:00:00.000Z'],
    ['Australia/Sydney', '2026-10-04T03:00', '2026-10-03T16:00:00.000Z'],
    // 2027: Sun 4 Apr and Sun 3 Oct.
    ['Australia/Sydney', '2027-04-04T02:00', '2027-04-03T15:00:00.000Z'],
    ['Australia/Sydney', '2027-10-03T02:59', '2027-10-02T16:00:00.000Z'],
    ['Australia/Sydney', '2027-10-03T12:00', '2027-10-03T01:00:00.000Z'],
  ])('%s %s is %s', (zone, local, expected) => {
    expect(instant(local, zone)).toBe(expected);
  });

  it('reads back the wall clock it was given, where the reading exists once', () => {
    const wall = parseLocalDateTime('2027-07-04T09:15', 'at');
    expect(wallTimeAt(instantOf(wall, 'America/New_York'), 'America/New_York')).toBe(wall);
  });

  it('takes seconds when a one-off moment names them', () => {
    expect(instant('2026-12-24T08:00:15', 'Europe/Berlin')).toBe('2026-12-24T07:00:15.000Z');
    expect(instant('2026-12-24T08:00', 'Europe/Berlin')).toBe('2026-12-24T07:00:00.000Z');
  });
});

describe('parse helpers refuse bad configuration, naming the field', () => {
  it.each([
    [() => checkTimeZone('Europe/Berlinn', 'policy.rules[0].timeZone'), 'policy.rules[0].timeZone', /not an IANA time zone/],
    [() => checkTimeZone('', 'policy.rules[0].timeZone'), 'policy.rules[0].timeZone', /a time zone is required/],
    [() => parseLocalTime('24:00', 'rules[1].from'), 'rules[1].from', /not a time of day/],
    [() => parseLocalTime('9:00', 'rules[1].from'), 'rules[1].from', /HH:MM/],
    [() => parseLocalTime('12:60', 'rules[1].to'), 'rules[1].to', /not a time of day/],
    [() => parseLocalDateTime('2026-02-30T10:00', 'rules[2].once.start'), 'rules[2].once.start', /real calendar date/],
    [() => parseLocalDateTime('2026-12-24 00:00', 'rules[2].once.start'), 'rules[2].once.start', /YYYY-MM-DDTHH:MM/],
    [() => parseLocalDateTime('2026-12-24T00:00Z', 'rules[2].once.end'), 'rules[2].once.end', /YYYY-MM-DDTHH:MM/],
    [() => parseLocalDateTime('2026-12-24T00:00:60', 'rules[2].once.end'), 'rules[2].once.end', /YYYY-MM-DDTHH:MM:SS/],
    [() => parseWeekday('Friday', 'rules[3].weekly.from.day'), 'rules[3].weekly.from.day', /Mon, Tue, Wed, Thu, Fri, Sat, Sun/],
  ])('%#: %s', (call, field, message) => {
    let thrown: unknown;
    try {
      call();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).key).toBe(field);
    expect((thrown as ConfigError).message).toMatch(message);
    expect((thrown as ConfigError).message.startsWith(`${field}: `)).toBe(true);
  });

  it('accepts good values', () => {
    expect(checkTimeZone('Australia/Sydney', 'tz')).toBe('Australia/Sydney');
    expect(parseLocalTime('23:59', 't')).toBe(23 * 60 + 59);
    expect(parseLocalTime('00:00', 't')).toBe(0);
    expect(parseLocalDateTime('2028-02-29T00:00', 't')).toBe(Date.UTC(2028, 1, 29));
    expect(parseWeekday('Sun', 'd')).toBe(6);
  });
});
