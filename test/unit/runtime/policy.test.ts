/**
 * The rules services at start (shared/runtime/policy.ts through buildHttpDeps, the composition
 * root every entry point uses): a URL at a metadata or link-local host, or a missing secret
 * variable, stops the start with a ConfigError naming its key; a good configuration builds one
 * client per endpoint without calling anything.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/domain/errors.js';
import { buildHttpDeps } from '../../../shared/runtime/deps.js';
import { CapturingLogger } from '../../support/fakes.js';

const endpoint = { name: 'change-board', url: 'https://rules.example.com/judge', secret: { env: 'RULES_SECRET' } };

function start(external: unknown[], env: Record<string, string> = { RULES_SECRET: 's3cret' }) {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-rules-'));
  const path = join(dir, 'crossfade.json');
  writeFileSync(path, JSON.stringify({ policy: { external } }));
  return buildHttpDeps({ env: { ...env, CROSSFADE_CONFIG: path, CROSSFADE_DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' }, configRequired: true, logger: new CapturingLogger() });
}

function startError(external: unknown[], env?: Record<string, string>): ConfigError {
  try {
    start(external, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected the start to fail');
}

describe('rules services at start', () => {
  it.each([
    ['the AWS metadata address', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/', /cloud-metadata/],
    ['the GCP metadata host', 'http://metadata.google.internal/computeMetadata/v1/', /cloud-metadata/],
    ['a link-local address', 'http://169.254.7.7/', /link-local/],
  ])('refuses a URL at %s, naming the key', (_name, url, why) => {
    const error = startError([endpoint, { ...endpoint, name: 'second', url }]);

    expect(error.key).toBe('policy.external[1].url');
    expect(error.message).toMatch(why);
  });

  it('refuses a secret variable that is not set, naming the key', () => {
    const error = startError([endpoint], {});

    expect(error.key).toBe('policy.external[0].secret.env');
    expect(error.message).toContain('RULES_SECRET');
  });

  it('builds one client per endpoint, with its configuration', () => {
    const deps = start([endpoint, { ...endpoint, name: 'risk', secret: { awsSecretsManager: 'risk-signing' }, failOpen: true }]);

    expect(deps.rulesServices.map(({ endpoint: e }) => [e.name, e.failOpen, e.timeoutMs])).toEqual([
      ['change-board', false, 2000],
      ['risk', true, 2000],
    ]);
  });
});
