/** Logger writing JSON lines to stdout/stderr, with credentials redacted by key name. */
import type { Logger } from '../ports/logger.js';

const SECRET_KEY = /authorization|token|secret|password|credential|cookie/i;

type Level = 'info' | 'warn' | 'error';

export interface JsonLoggerOptions {
  /** Lowest level written; `silent` writes nothing (tests). */
  level?: Level | 'silent';
  write?: (level: Level, line: string) => void;
}

const rank: Record<Level | 'silent', number> = { info: 0, warn: 1, error: 2, silent: 3 };

export function createJsonLogger(options: JsonLoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const threshold = rank[options.level ?? 'info'];
  const write = options.write ?? ((level, line) => (level === 'info' ? process.stdout : process.stderr).write(line + '\n'));
  const log = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (rank[level] < threshold) return;
    write(level, JSON.stringify({ level, time: new Date().toISOString(), message, ...redact(base), ...redact(fields ?? {}) }));
  };
  return {
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    child: (fields) => createJsonLogger(options, { ...base, ...fields }),
  };
}

function redact(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEY.test(key) && key !== 'tokenId') out[key] = '[redacted]';
    else if (value instanceof Error) out[key] = { name: value.name, message: value.message };
    // Nested objects too (a request's headers): a credential two levels down is still a credential.
    else if (depth < 4 && isPlainObject(value)) out[key] = redact(value, depth + 1);
    else out[key] = value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
