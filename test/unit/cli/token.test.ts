import { describe, expect, it } from 'vitest';
import { tokenCommand } from '../../../cli/main.js';
import { parseConfig, tokenEntries } from '../../../shared/domain/config.js';
import { authenticate, indexTokens } from '../../../shared/http/auth.js';
import { parse } from 'yaml';

describe('crossfade token', () => {
  it('makes a token whose printed entry, pasted into the configuration, authenticates it', () => {
    const { token, entry } = tokenCommand(['--id', 'spinnaker-prod', '--scope', 'deploy:checkout*', '--scope', 'read:*']);
    const config = parseConfig(parse(`tokens:\n${entry}\n`), 'test');
    const principal = authenticate(`Bearer ${token}`, indexTokens(tokenEntries(config)));
    expect(principal.tokenId).toBe('spinnaker-prod');
    expect(principal.scopes).toEqual([
      { kind: 'deploy', serviceGlob: 'checkout*' },
      { kind: 'read', serviceGlob: '*' },
    ]);
    expect(entry).not.toContain(token);
  });

  it('refuses a missing id, a missing scope and a scope that is not one of the three forms', () => {
    expect(() => tokenCommand(['--scope', 'admin'])).toThrow('--id is required');
    expect(() => tokenCommand(['--id', 'x'])).toThrow('--scope is required');
    expect(() => tokenCommand(['--id', 'x', '--scope', 'write:x'])).toThrow('--scope write:x is not admin');
  });
});
