/** The JSON-lines logger (shared/adapters/json-logger.ts). */
import { describe, expect, it } from 'vitest';
import { createJsonLogger, type JsonLoggerOptions } from '../../../shared/adapters/json-logger.js';

type Level = 'info' | 'warn' | 'error';

function capture(level?: JsonLoggerOptions['level']) {
  const written: { level: Level; line: string }[] = [];
  const logger = createJsonLogger({ level, write: (lvl, line) => written.push({ level: lvl, line }) });
  const records = () => written.map(({ line }) => JSON.parse(line) as Record<string, unknown>);
  return { logger, written, records };
}

describe('createJsonLogger', () => {
  it('writes one JSON object per line: level, time, message, fields', () => {
    const { logger, written, records } = capture();

    logger.info('deployment created', { deploymentId: 'dep_1', steps: 3 });

    expect(written).toHaveLength(1);
    expect(written[0]!.level).toBe('info');
    expect(written[0]!.line).not.toContain('\n');
    expect(records()[0]).toEqual({ level: 'info', time: expect.any(String), message: 'deployment created', deploymentId: 'dep_1', steps: 3 });
    expect(Number.isNaN(Date.parse(records()[0]!['time'] as string))).toBe(false);
  });

  it('writes warn and error at their own level', () => {
    const { logger, records } = capture();
    logger.warn('slow');
    logger.error('broken');
    expect(records().map((r) => [r['level'], r['message']])).toEqual([
      ['warn', 'slow'],
      ['error', 'broken'],
    ]);
  });

  it('writes nothing below the threshold', () => {
    const { logger, records } = capture('warn');
    logger.info('dropped');
    logger.warn('kept');
    logger.error('kept too');
    expect(records().map((r) => r['message'])).toEqual(['kept', 'kept too']);

    const errorsOnly = capture('error');
    errorsOnly.logger.info('x');
    errorsOnly.logger.warn('x');
    errorsOnly.logger.error('y');
    expect(errorsOnly.records().map((r) => r['message'])).toEqual(['y']);
  });

  it('silent writes nothing at all', () => {
    const { logger, written } = capture('silent');
    logger.info('a');
    logger.warn('b');
    logger.error('c');
    logger.child({ requestId: 'r' }).error('d');
    expect(written).toEqual([]);
  });

  it('redacts keys that look like credentials, but keeps tokenId', () => {
    const { logger, written, records } = capture();

    logger.info('request', {
      authorization: 'Bearer cf_secret_value_1',
      Authorization: 'Bearer cf_secret_value_2',
      token: 'cf_secret_value_3',
      accessToken: 'cf_secret_value_4',
      clientSecret: 'cf_secret_value_5',
      password: 'cf_secret_value_6',
      cookie: 'cf_secret_value_7',
      tokenId: 'checkout-pipeline',
      service: 'checkout',
    });

    expect(records()[0]).toMatchObject({
      authorization: '[redacted]',
      Authorization: '[redacted]',
      token: '[redacted]',
      accessToken: '[redacted]',
      clientSecret: '[redacted]',
      password: '[redacted]',
      cookie: '[redacted]',
      tokenId: 'checkout-pipeline',
      service: 'checkout',
    });
    expect(written[0]!.line).not.toContain('cf_secret_value');
  });

  it('serializes Error values as their name and message', () => {
    const { logger, records } = capture();
    const error = new TypeError('no such property');
    logger.error('request failed', { error });
    expect(records()[0]!['error']).toEqual({ name: 'TypeError', message: 'no such property' });
  });

  it('a child adds its fields to every line, and its own calls may add more', () => {
    const { logger, records } = capture();

    const child = logger.child({ requestId: 'req-1', method: 'POST' });
    child.info('request', { status: 202 });
    child.child({ deploymentId: 'dep_1' }).warn('slow');
    logger.info('parent');

    expect(records()).toEqual([
      { level: 'info', time: expect.any(String), message: 'request', requestId: 'req-1', method: 'POST', status: 202 },
      { level: 'warn', time: expect.any(String), message: 'slow', requestId: 'req-1', method: 'POST', deploymentId: 'dep_1' },
      { level: 'info', time: expect.any(String), message: 'parent' },
    ]);
  });

  it("a child's fields are redacted too, and keep the parent's threshold", () => {
    const { logger, written, records } = capture('warn');
    const child = logger.child({ secret: 'cf_secret_value_8' });
    child.info('dropped');
    child.warn('kept');
    expect(records()).toEqual([{ level: 'warn', time: expect.any(String), message: 'kept', secret: '[redacted]' }]);
    expect(written.map((w) => w.line).join('\n')).not.toContain('cf_secret_value');
  });

  it('redacts credential-looking keys inside nested objects', () => {
    const lines: string[] = [];
    createJsonLogger({ write: (_level, line) => lines.push(line) }).info('r', { request: { headers: { authorization: 'Bearer cf_nested_secret' } } });
    expect(lines[0]).not.toContain('cf_nested_secret');
    expect(JSON.parse(lines[0]!)).toMatchObject({ request: { headers: { authorization: '[redacted]' } } });
  });
});
