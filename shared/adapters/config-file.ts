/**
 * Loads crossfade.yaml the same way for every entry point: the path in CROSSFADE_CONFIG, else
 * `crossfade.yaml` in the working directory. Locally a missing default file means the embedded
 * defaults; in AWS and GCP (`required`) the file ships inside the bundle, so its absence is a
 * packaging error and start-up fails loudly instead of running with no tokens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { embeddedDefaults, parseConfig, type CrossfadeConfig } from '../domain/config.js';
import { ConfigError } from '../domain/errors.js';

export const CONFIG_ENV = 'CROSSFADE_CONFIG';
export const DEFAULT_CONFIG_FILE = 'crossfade.yaml';

export interface LoadedConfig {
  config: CrossfadeConfig;
  /** The file read, or 'embedded defaults'. */
  source: string;
}

export function loadConfig(env: Record<string, string | undefined>, options: { required: boolean; cwd?: string }): LoadedConfig {
  const named = env[CONFIG_ENV];
  const path = resolve(options.cwd ?? process.cwd(), named ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (named !== undefined || options.required) {
      throw new ConfigError(`configuration file ${path} does not exist (set ${CONFIG_ENV} to the right path)`, CONFIG_ENV);
    }
    return { config: embeddedDefaults, source: 'embedded defaults' };
  }
  let document: unknown;
  try {
    document = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  return { config: parseConfig(document, path), source: path };
}
