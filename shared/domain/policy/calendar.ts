/**
 * STUB until engineer P's branch (i10-p) is merged: the lead keeps P's calendar.ts. Only the three
 * checks the config schema calls, with the signatures P exports; each throws ConfigError naming the field.
 */
import { ConfigError } from '../errors.js';

export function checkTimeZone(zone: string, field: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ConfigError(`${field} "${zone}" is not an IANA time zone`, field);
  }
}

export function parseLocalTime(text: string, field: string): { hour: number; minute: number } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!match) throw new ConfigError(`${field} "${text}" is not a time of day HH:MM`, field);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

export function parseLocalDateTime(text: string, field: string): { date: string; time: { hour: number; minute: number } } {
  const match = /^(\d{4}-\d{2}-\d{2})T(.+)$/.exec(text);
  if (!match || Number.isNaN(Date.parse(`${match[1]}T00:00Z`))) throw new ConfigError(`${field} "${text}" is not a local date-time YYYY-MM-DDTHH:MM`, field);
  return { date: match[1]!, time: parseLocalTime(match[2]!, field) };
}
