/**
 * Loads the configuration the same way for every entry point: the path in CROSSFADE_CONFIG, else
 * `crossfade.yaml` in the working directory. Locally a missing default file means the embedded
 * defaults; in AWS and GCP (`required`) the file ships inside the bundle, so its absence is a
 * packaging error and start-up fails loudly instead of running with no tokens.
 *
 * `.json` files are parsed with JSON.parse; anything else as YAML. The build validates
 * crossfade.yaml and ships it as crossfade.json, so the cloud bundles need no YAML parser: `yaml`
 * is loaded on demand, through a require esbuild leaves alone, and is not in those bundles.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
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
  const named = env[CONFIG_ENV] || undefined; // an empty value means unset
  const path = resolve(options.cwd ?? process.cwd(), named ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (named !== undefined || options.required) {
      throw new ConfigError(`configuration file ${path} does not exist (set ${CONFIG_ENV} to the right path)`, CONFIG_ENV);
    }
    return { config: embeddedDefaults, source: 'embedded defaults' };
  }
  return { config: parseConfig(readDocument(path), path), source: path };
}

function readDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(error as Error).message}`, CONFIG_ENV);
  }
  const json = path.endsWith('.json');
  try {
    return json ? JSON.parse(text) : loadYamlParser()(text);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${path}: not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
}

function loadYamlParser(): (text: string) => unknown {
  try {
    return (createRequire(import.meta.url)('yaml') as { parse: (text: string) => unknown }).parse;
  } catch {
    throw new ConfigError('YAML configuration needs the yaml package, which cloud bundles leave out: use the crossfade.json that `npm run build` writes', CONFIG_ENV);
  }
}
