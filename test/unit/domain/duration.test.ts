/** Durations as Argo Rollouts writes them (shared/domain/duration.ts). */
import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from '../../../shared/domain/duration.js';

describe('parseDurationSeconds', () => {
  it.each([
    ['30s', 30],
    ['5m', 300],
    ['1h', 3600],
    ['1h30m', 5400],
    ['1h30m15s', 5415],
    ['2m30s', 150],
    ['1h15s', 3615],
    ['90s', 90],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each([
    ['0s', 'zero'],
    ['0h0m0s', 'zero, spelt out'],
    ['', 'empty'],
    ['5', 'no unit'],
    ['5 m', 'a space'],
    ['5min', 'a unit other than h, m, s'],
    ['-1s', 'negative'],
    ['1.5h', 'a fraction'],
    ['30m1h', 'units out of order'],
    ['5M', 'an upper-case unit'],
    [' 5m', 'leading whitespace'],
    ['5m\n', 'a trailing newline'],
  ])('%j is not a duration (%s)', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });
});
