/**
 * crossfade.yaml `clock.startsAt` (runtime/deps.ts, adapters/system.ts): the local stack's clock
 * starts at the configured instant and runs at real speed; the cloud functions refuse it, naming the key.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clockStartingAt } from '../../../shared/adapters/system.js';
import { ConfigError } from '../../../shared/domain/errors.js';
import { buildHttpDeps } from '../../../shared/runtime/deps.js';
import { CapturingLogger } from '../../support/fakes.js';

function configFile(document: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'crossfade-clock-')), 'crossfade.json');
  writeFileSync(path, JSON.stringify(document));
  return path;
}

const env = (config: string) => ({ CROSSFADE_CONFIG: config, CROSSFADE_DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' });

describe('clock.startsAt', () => {
  it('reads the configured instant at start, then runs at real speed', () => {
    const clock = clockStartingAt(new Date('2026-12-24T06:59:30Z'), Date.now() - 2_000);
    const read = clock.now().getTime();
    expect(read).toBeGreaterThanOrEqual(Date.parse('2026-12-24T06:59:32Z'));
    expect(read).toBeLessThan(Date.parse('2026-12-24T07:00:32Z'));
  });

  it('sets the local stack’s clock, and says so in the log', () => {
    const logger = new CapturingLogger();
    const deps = buildHttpDeps({ env: env(configFile({ clock: { startsAt: '2026-12-24T06:59:30Z' } })), configRequired: false, logger });
    expect(deps.clock.now().getUTCFullYear()).toBe(2026);
    expect(Math.abs(deps.clock.now().getTime() - Date.parse('2026-12-24T06:59:30Z'))).toBeLessThan(60_000);
    expect(logger.lines.some((line) => line.level === 'warn' && /clock is set by the configuration/.test(line.message))).toBe(true);
  });

  it('is refused by the cloud functions, naming the key', () => {
    let thrown: unknown;
    try {
      buildHttpDeps({ env: env(configFile({ clock: { startsAt: '2026-12-24T06:59:30Z' } })), configRequired: true, logger: new CapturingLogger() });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).key).toBe('clock.startsAt');
  });
});
