/**
 * What every entry point's composition starts from, and nothing more: the configuration, the
 * logger, the clock, and the HTTP edge (tokens, cloud identities, the public base URL). It imports
 * no SDK: the health function is built from this alone (runtime/health.ts), and every other
 * function adds the capabilities its routes use to it (runtime/deps.ts, docs/architecture.md "Cold start").
 */
import type { CrossfadeConfig, TokenEntry } from '../domain/config.js';
import { ConfigError } from '../domain/errors.js';
import { tokenEntries } from '../domain/config.js';
import { indexTokens } from '../http/auth.js';
import type { EdgeDeps } from '../http/route.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { loadConfig } from '../adapters/config-file.js';
import { createJsonLogger } from '../adapters/json-logger.js';
import { clockStartingAt, systemClock } from '../adapters/system.js';
import { packageVersion } from '../version.js';
import { callerAuthOf } from './callers.js';

export interface CoreOptions {
  env: Record<string, string | undefined>;
  /** True in AWS and GCP: the configuration file must exist. */
  configRequired: boolean;
  /** Tokens besides the configured ones (the local stack's admin token). */
  extraTokens?: readonly TokenEntry[];
  logger?: Logger;
}

export interface RuntimeCore {
  config: CrossfadeConfig;
  /** Which configuration was loaded: a path, or 'embedded defaults'. */
  configSource: string;
  clock: Clock;
  /** What the HTTP core itself needs, whatever the function's routes. */
  edge: EdgeDeps;
}

export function buildCore(options: CoreOptions): RuntimeCore {
  const { env } = options;
  const logger = options.logger ?? createJsonLogger({ level: logLevel(env['CROSSFADE_LOG_LEVEL']) });
  const { config, source } = loadConfig(env, { required: options.configRequired });
  if (config.clock && options.configRequired) throw new ConfigError(`${source}: clock.startsAt: is for the local stack (npm start) only; the cloud functions run on the real clock`, 'clock.startsAt');
  const clock = config.clock ? clockStartingAt(new Date(config.clock.startsAt)) : systemClock;
  if (config.clock) logger.warn('the clock is set by the configuration: calendar rules and timestamps follow it, not the real time', { startsAt: config.clock.startsAt, now: clock.now().toISOString() });
  const edge: EdgeDeps = {
    logger,
    tokens: indexTokens([...tokenEntries(config), ...(options.extraTokens ?? [])]),
    callers: callerAuthOf(config, systemClock),
    publicBaseUrl: config.publicBaseUrl,
    version: packageVersion,
  };
  return { config, configSource: source, clock, edge };
}

export function regionFromEnv(env: Record<string, string | undefined>): string {
  return env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

function logLevel(value: string | undefined): 'info' | 'warn' | 'error' | 'silent' {
  return value === 'warn' || value === 'error' || value === 'silent' ? value : 'info';
}
