/** Token scopes (docs/api.md "Auth"): `admin`, `deploy:<service-glob>`, `read:<service-glob>`, `xds:<proxy-group-glob>`. */
import { describe, expect, it } from 'vitest';
import { allows, allowsEveryService, allowsXds, globMatches, parseScope, type Scope } from '../../../shared/domain/scopes.js';

describe('parseScope', () => {
  it.each<[string, Scope]>([
    ['admin', { kind: 'admin' }],
    ['deploy:checkout', { kind: 'deploy', serviceGlob: 'checkout' }],
    ['read:checkout', { kind: 'read', serviceGlob: 'checkout' }],
    ['deploy:checkout*', { kind: 'deploy', serviceGlob: 'checkout*' }],
    ['read:*-api', { kind: 'read', serviceGlob: '*-api' }],
    ['read:*', { kind: 'read', serviceGlob: '*' }],
    ['deploy:payments-v2', { kind: 'deploy', serviceGlob: 'payments-v2' }],
    ['xds:envoy-aws-use1', { kind: 'xds', groupGlob: 'envoy-aws-use1' }],
    ['xds:envoy-*', { kind: 'xds', groupGlob: 'envoy-*' }],
  ])('%s is a scope', (text, scope) => {
    expect(parseScope(text)).toEqual(scope);
  });

  it.each([
    ['deploy:', 'an empty glob'],
    ['read:', 'an empty glob'],
    ['write:x', 'an unknown access'],
    ['Admin', 'admin spelt otherwise'],
    ['admin:*', 'admin with a glob'],
    ['read:Checkout', 'upper-case letters (service names are lower case)'],
    ['read:check.out', 'a dot'],
    ['read:check?out', 'a ?'],
    ['read:[a-z]*', 'a character class'],
    ['deploy:check out', 'a space'],
    ['deploy:checkout/x', 'a slash'],
    [`read:${'a'.repeat(64)}`, 'a glob longer than 63 characters'],
    ['', 'nothing'],
    ['xds:', 'an xds scope without a group glob'],
    ['xds:Envoy', 'an upper-case group glob'],
  ])('%s is refused (%s)', (text) => {
    expect(parseScope(text)).toBeUndefined();
  });
});

describe('globMatches', () => {
  it('an exact glob matches only that service', () => {
    expect(globMatches('checkout', 'checkout')).toBe(true);
    expect(globMatches('checkout', 'checkout-v2')).toBe(false);
    expect(globMatches('checkout', 'my-checkout')).toBe(false);
  });

  it('a trailing * matches any suffix, including none', () => {
    expect(globMatches('checkout*', 'checkout')).toBe(true);
    expect(globMatches('checkout*', 'checkout-api')).toBe(true);
    expect(globMatches('checkout*', 'payments')).toBe(false);
    expect(globMatches('checkout*', 'my-checkout')).toBe(false);
  });

  it('a leading * matches any prefix', () => {
    expect(globMatches('*-api', 'checkout-api')).toBe(true);
    expect(globMatches('*-api', '-api')).toBe(true);
    expect(globMatches('*-api', 'checkout-api-v2')).toBe(false);
    expect(globMatches('*-api', 'checkoutapi')).toBe(false);
  });

  it('* alone matches every service', () => {
    for (const service of ['a', 'checkout', 'payments-api', 'x-1']) expect(globMatches('*', service)).toBe(true);
  });

  it('regular-expression metacharacters are literal', () => {
    expect(globMatches('a.c', 'abc')).toBe(false);
    expect(globMatches('a.c', 'a.c')).toBe(true);
    expect(globMatches('a+', 'aaa')).toBe(false);
    expect(globMatches('(a|b)', 'a')).toBe(false);
    expect(globMatches('[ab]', 'a')).toBe(false);
    expect(globMatches('a?', 'a')).toBe(false);
    expect(globMatches('^a$', '^a$')).toBe(true);
  });
});

describe('allows', () => {
  const admin: Scope[] = [{ kind: 'admin' }];
  const deployCheckout: Scope[] = [{ kind: 'deploy', serviceGlob: 'checkout*' }];
  const readCheckout: Scope[] = [{ kind: 'read', serviceGlob: 'checkout*' }];

  it('admin may read and deploy every service', () => {
    expect(allows(admin, 'read', 'anything')).toBe(true);
    expect(allows(admin, 'deploy', 'anything')).toBe(true);
  });

  it('deploy on a service implies read on it (one token creates, polls and cancels)', () => {
    expect(allows(deployCheckout, 'deploy', 'checkout-api')).toBe(true);
    expect(allows(deployCheckout, 'read', 'checkout-api')).toBe(true);
  });

  it('read does not imply deploy', () => {
    expect(allows(readCheckout, 'read', 'checkout')).toBe(true);
    expect(allows(readCheckout, 'deploy', 'checkout')).toBe(false);
  });

  it('a scope reaches only the services its glob matches', () => {
    expect(allows(deployCheckout, 'deploy', 'payments')).toBe(false);
    expect(allows(deployCheckout, 'read', 'payments')).toBe(false);
  });

  it('any one scope suffices; no scopes allow nothing', () => {
    const both: Scope[] = [{ kind: 'read', serviceGlob: 'payments' }, ...deployCheckout];
    expect(allows(both, 'deploy', 'checkout')).toBe(true);
    expect(allows(both, 'read', 'payments')).toBe(true);
    expect(allows([], 'read', 'checkout')).toBe(false);
  });
});

describe('allowsEveryService', () => {
  it('admin reaches every service for both accesses', () => {
    expect(allowsEveryService([{ kind: 'admin' }], 'read')).toBe(true);
    expect(allowsEveryService([{ kind: 'admin' }], 'deploy')).toBe(true);
  });

  it('deploy:* reaches every service for deploy and for read', () => {
    expect(allowsEveryService([{ kind: 'deploy', serviceGlob: '*' }], 'deploy')).toBe(true);
    expect(allowsEveryService([{ kind: 'deploy', serviceGlob: '*' }], 'read')).toBe(true);
  });

  it('read:* reaches every service for read only', () => {
    expect(allowsEveryService([{ kind: 'read', serviceGlob: '*' }], 'read')).toBe(true);
    expect(allowsEveryService([{ kind: 'read', serviceGlob: '*' }], 'deploy')).toBe(false);
  });

  it('a glob narrower than * does not reach every service', () => {
    expect(allowsEveryService([{ kind: 'read', serviceGlob: 'checkout*' }], 'read')).toBe(false);
    expect(allowsEveryService([{ kind: 'deploy', serviceGlob: '*-api' }], 'read')).toBe(false);
    expect(allowsEveryService([], 'read')).toBe(false);
  });
});

describe('xds scopes', () => {
  const envoyAws: Scope[] = [{ kind: 'xds', groupGlob: 'envoy-aws-*' }];

  it('let a proxy fetch the configuration of the groups their glob matches, and no other', () => {
    expect(allowsXds(envoyAws, 'envoy-aws-use1')).toBe(true);
    expect(allowsXds(envoyAws, 'envoy-gcp-usc1')).toBe(false);
  });

  it('grant nothing on the API: a token in a proxy bootstrap reads and deploys no service', () => {
    const everything: Scope[] = [{ kind: 'xds', groupGlob: '*' }];
    expect(allows(everything, 'read', 'checkout')).toBe(false);
    expect(allows(everything, 'deploy', 'checkout')).toBe(false);
    expect(allowsEveryService(everything, 'read')).toBe(false);
  });

  it('are granted by nothing else, not even admin: an operator token never belongs in a proxy bootstrap', () => {
    expect(allowsXds([{ kind: 'admin' }], 'envoy-aws-use1')).toBe(false);
    expect(allowsXds([{ kind: 'deploy', serviceGlob: '*' }, { kind: 'read', serviceGlob: '*' }], 'envoy-aws-use1')).toBe(false);
  });
});
