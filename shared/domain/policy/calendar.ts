/**
 * Wall clocks in IANA time zones (docs/policy.md, "Calendar rules"), with Intl.DateTimeFormat and
 * nothing else: Node ships the full ICU time-zone database.
 *
 * A wall-clock reading is kept as a WallTime: the milliseconds that reading would be if the zone
 * were UTC (`2026-03-29T02:30` → Date.UTC(2026, 2, 29, 2, 30)). Adding days to one is plain
 * arithmetic, because a wall clock has no DST; only turning it into an instant needs the zone.
 *
 * Turning a wall clock into an instant, across DST:
 * - a reading that does not exist (the spring-forward gap, e.g. 02:30 on the night Europe/Berlin
 *   goes from 02:00 straight to 03:00) is the first instant after the gap — the moment of the
 *   change itself (01:00Z there), which the zone's clocks show as 03:00. A freeze "from 02:30" that
 *   night starts when clocks jump; a window "until 02:30" ends then too.
 * - a reading that exists twice (the fall-back hour, e.g. 02:30 on the night Berlin goes from 03:00
 *   back to 02:00) is its first occurrence (00:30Z, still on summer time).
 * Both keep the mapping monotone: a later reading never gives an earlier instant.
 */
import { ConfigError } from '../errors.js';
import { WEEKDAYS, type Weekday } from './types.js';

/** Milliseconds of a wall-clock reading, counted as if its zone were UTC. */
export type WallTime = number;

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

const LOCAL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/** The zone, if Intl knows it; otherwise a ConfigError naming `field`. */
export function checkTimeZone(zone: string, field: string): string {
  if (typeof zone !== 'string' || zone === '') throw new ConfigError(`${field}: a time zone is required (an IANA name such as Europe/Berlin)`, field);
  try {
    formatterFor(zone);
  } catch {
    throw new ConfigError(`${field}: ${JSON.stringify(zone)} is not an IANA time zone (such as Europe/Berlin or America/New_York)`, field);
  }
  return zone;
}

/** `Mon` … `Sun` as 0 … 6; otherwise a ConfigError naming `field`. */
export function parseWeekday(text: string, field: string): number {
  const day = WEEKDAYS.indexOf(text as Weekday);
  if (day < 0) throw new ConfigError(`${field}: ${JSON.stringify(text)} is not a day of the week (one of ${WEEKDAYS.join(', ')})`, field);
  return day;
}

/** `HH:MM` (00:00–23:59) as minutes after midnight; otherwise a ConfigError naming `field`. */
export function parseLocalTime(text: string, field: string): number {
  const match = typeof text === 'string' ? LOCAL_TIME.exec(text) : null;
  if (!match) throw new ConfigError(`${field}: ${JSON.stringify(text)} is not a time of day (HH:MM, 00:00 to 23:59)`, field);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** `YYYY-MM-DDTHH:MM[:SS]`, a real calendar date, as a WallTime; otherwise a ConfigError naming `field`. */
export function parseLocalDateTime(text: string, field: string): WallTime {
  const match = typeof text === 'string' ? LOCAL_DATE_TIME.exec(text) : null;
  const [year, month, day, hour, minute, second] = (match?.slice(1) ?? []).map((part) => Number(part ?? 0)) as number[];
  const wall = match ? Date.UTC(year!, month! - 1, day!, hour!, minute!, second!) : Number.NaN;
  // Date.UTC rolls 2026-02-30 over to March: a date that does not round-trip does not exist.
  const date = new Date(wall);
  if (!match || date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day) {
    throw new ConfigError(`${field}: ${JSON.stringify(text)} is not a local date and time (YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS, a real calendar date)`, field);
  }
  return wall;
}

/** The wall clock `zone` shows at `instant`, to the second. */
export function wallTimeAt(instant: number, zone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/**
 * The instant `wall` is in `zone`, with the gap and repeated-hour rules in this file's header.
 * Remembered: a weekly rule asks for the same few readings on every evaluation, and each answer
 * costs several Intl calls (it takes a weekly freeze from about 160 µs to under 20 µs per evaluation).
 */
export function instantOf(wall: WallTime, zone: string): number {
  const key = `${zone} ${wall}`;
  let instant = instants.get(key);
  if (instant === undefined) {
    if (instants.size >= INSTANTS_REMEMBERED) instants.clear();
    instant = resolveWallTime(wall, zone);
    instants.set(key, instant);
  }
  return instant;
}

const INSTANTS_REMEMBERED = 10_000;
const instants = new Map<string, number>();

function resolveWallTime(wall: WallTime, zone: string): number {
  // The offsets a day either side are the only ones that can apply (zones change at most once a night).
  const before = offsetAt(wall - DAY_MS, zone);
  const after = offsetAt(wall + DAY_MS, zone);
  if (before === after) return wall - before;
  const fits = [wall - before, wall - after].filter((instant) => offsetAt(instant, zone) === wall - instant);
  if (fits.length > 0) return Math.min(...fits);
  return firstInstantAfterGap(wall - after, wall - before, zone, before);
}

/** A span of instants, [start, end). */
export interface Span {
  start: number;
  end: number;
}

/** Spans in order of start, overlapping or touching ones joined into one. */
export function mergeTouching(spans: Span[]): Span[] {
  const merged: Span[] = [];
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1);
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/** Monday = 0 … Sunday = 6, the order of WEEKDAYS. */
export function weekdayOf(wall: WallTime): number {
  return (new Date(wall).getUTCDay() + 6) % 7;
}

/** Midnight of the day `wall` falls on. */
export function startOfDay(wall: WallTime): WallTime {
  return wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
}

/** Midnight of the Monday that starts the week `wall` falls in. */
export function startOfWeek(wall: WallTime): WallTime {
  const midnight = startOfDay(wall);
  return midnight - weekdayOf(midnight) * DAY_MS;
}

/** Milliseconds to add to an instant to read the zone's wall clock (+3600000 for CET). */
function offsetAt(instant: number, zone: string): number {
  const second = Math.floor(instant / 1000) * 1000;
  return wallTimeAt(second, zone) - second;
}

/**
 * Inside a gap neither offset fits: `early` (wall minus the later offset) still reads the old
 * offset, `late` the new one. The change lies between; bisect to the second.
 */
function firstInstantAfterGap(early: number, late: number, zone: string, oldOffset: number): number {
  let low = Math.floor(early / 1000);
  let high = Math.ceil(late / 1000);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (offsetAt(middle * 1000, zone) === oldOffset) low = middle;
    else high = middle;
  }
  return high * 1000;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone: building one costs far more than using it. Throws RangeError for an unknown zone. */
function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}
