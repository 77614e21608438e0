/**
 * crossfade.yaml's `policy` key (shared/domain/policy/schema.ts, wired into config.ts): defaults,
 * and every bad field refused with a ConfigError naming it.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../shared/domain/config.js';
import { ConfigError } from '../../../../shared/domain/errors.js';

const SOURCE = 'crossfade.yaml';
const weekly = { from: { day: 'Fri', time: '16:00' }, to: { day: 'Mon', time: '08:00' } };
const freeze = { name: 'weekend', kind: 'freeze-window', timeZone: 'Europe/Berlin', weekly };
const window = { name: 'hours', kind: 'deploy-window', timeZone: 'America/New_York', days: ['Mon', 'Tue'], from: '09:00', to: '17:00' };
const cap = { name: 'cap', kind: 'concurrency-cap', max: 3 };

function parseRules(rules: unknown[]) {
  return parseConfig({ policy: { rules } }, SOURCE).policy.rules;
}

/** The key of the ConfigError the rules are refused with; fails when they are accepted. */
function refusedKey(rules: unknown[]): string | undefined {
  try {
    parseRules(rules);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { key, message } = error as ConfigError;
    expect(message.startsWith(`${SOURCE}: ${key}`)).toBe(true);
    return key;
  }
  throw new Error('expected a ConfigError, but the rules were accepted');
}

describe('policy in crossfade.yaml', () => {
  it('defaults to no rules, so existing files change nothing', () => {
    expect(parseConfig({}, SOURCE).policy).toEqual({ rules: [], external: [], recheckSeconds: 60 });
    expect(parseConfig({ policy: {} }, SOURCE).policy).toEqual({ rules: [], external: [], recheckSeconds: 60 });
  });

  it('fills in the defaults: every service and environment, a global cap, one judgment', () => {
    expect(parseRules([cap, { name: 'analysed', kind: 'required-analysis' }, { name: 'two', kind: 'four-eyes' }])).toEqual([
      { ...cap, services: ['*'], environments: ['*'], per: 'global' },
      { name: 'analysed', kind: 'required-analysis', services: ['*'], environments: ['*'], minJudgments: 1 },
      { name: 'two', kind: 'four-eyes', services: ['*'], environments: ['*'] },
    ]);
  });

  it('accepts calendar rules in IANA time zones, one-off and weekly', () => {
    const once = { name: 'year-end', kind: 'freeze-window', timeZone: 'Australia/Sydney', once: { start: '2026-12-24T00:00', end: '2026-12-27T00:00' } };
    expect(parseRules([freeze, once, window]).map((rule) => rule.name)).toEqual(['weekend', 'year-end', 'hours']);
  });

  it.each([
    { case: 'an unknown kind', rules: [{ name: 'x', kind: 'lunar-phase' }], key: 'policy.rules[0].kind' },
    { case: 'no kind', rules: [{ name: 'x' }], key: 'policy.rules[0].kind' },
    { case: 'no name', rules: [{ kind: 'four-eyes' }], key: 'policy.rules[0].name' },
    { case: 'a name that is not a DNS-1123 label', rules: [{ name: 'Two People', kind: 'four-eyes' }], key: 'policy.rules[0].name' },
    { case: 'a name defined twice', rules: [cap, { name: 'other', kind: 'four-eyes' }, { ...cap, max: 5 }], key: 'policy.rules[2].name' },
    { case: 'an unknown field', rules: [{ ...cap, maximum: 3 }], key: 'policy.rules[0].maximum' },
    { case: 'a bad service glob', rules: [{ ...cap, services: ['Checkout!'] }], key: 'policy.rules[0].services[0]' },
    { case: 'a bad environment glob', rules: [{ ...cap, environments: ['prod', 'eu west'] }], key: 'policy.rules[0].environments[1]' },
    { case: 'no environments at all', rules: [{ ...cap, environments: [] }], key: 'policy.rules[0].environments' },
    { case: 'a cap of 0', rules: [{ ...cap, max: 0 }], key: 'policy.rules[0].max' },
    { case: 'a cap of 1.5', rules: [{ ...cap, max: 1.5 }], key: 'policy.rules[0].max' },
    { case: 'a cap without max', rules: [{ name: 'cap', kind: 'concurrency-cap' }], key: 'policy.rules[0].max' },
    { case: 'a cap per region', rules: [{ ...cap, per: 'region' }], key: 'policy.rules[0].per' },
    { case: 'minJudgments 0', rules: [{ name: 'a', kind: 'required-analysis', minJudgments: 0 }], key: 'policy.rules[0].minJudgments' },
    { case: 'promotion order without after', rules: [{ name: 'p', kind: 'promotion-order' }], key: 'policy.rules[0].after' },
    { case: 'promotion order after a glob', rules: [{ name: 'p', kind: 'promotion-order', after: 'stag*' }], key: 'policy.rules[0].after' },
    { case: 'dependency health depending on nothing', rules: [{ name: 'd', kind: 'dependency-health', dependsOn: [] }], key: 'policy.rules[0].dependsOn' },
    { case: 'dependency health on a bad name', rules: [{ name: 'd', kind: 'dependency-health', dependsOn: ['auth', 'Auth_2'] }], key: 'policy.rules[0].dependsOn[1]' },
    { case: 'a freeze in no time zone', rules: [{ ...freeze, timeZone: 'Mars/Olympus' }], key: 'policy.rules[0].timeZone' },
    { case: 'a freeze without a time zone', rules: [{ name: 'f', kind: 'freeze-window', weekly }], key: 'policy.rules[0].timeZone' },
    { case: 'a freeze with neither once nor weekly', rules: [{ name: 'f', kind: 'freeze-window', timeZone: 'UTC' }], key: 'policy.rules[0]' },
    { case: 'a freeze with both once and weekly', rules: [{ ...freeze, once: { start: '2026-12-24T00:00', end: '2026-12-27T00:00' } }], key: 'policy.rules[0]' },
    { case: 'a one-off start that is no date-time', rules: [{ ...freeze, weekly: undefined, once: { start: '24.12.2026', end: '2026-12-27T00:00' } }], key: 'policy.rules[0].once.start' },
    { case: 'a one-off end at 25:00', rules: [{ ...freeze, weekly: undefined, once: { start: '2026-12-24T00:00', end: '2026-12-27T25:00' } }], key: 'policy.rules[0].once.end' },
    { case: 'a one-off that ends before it starts', rules: [{ ...freeze, weekly: undefined, once: { start: '2026-12-27T00:00', end: '2026-12-24T00:00' } }], key: 'policy.rules[0].once.end' },
    { case: 'a weekly day that is no weekday', rules: [{ ...freeze, weekly: { ...weekly, from: { day: 'Friday', time: '16:00' } } }], key: 'policy.rules[0].weekly.from.day' },
    { case: 'a weekly time that is no time', rules: [{ ...freeze, weekly: { ...weekly, to: { day: 'Mon', time: '8am' } } }], key: 'policy.rules[0].weekly.to.time' },
    { case: 'a deploy window in no time zone', rules: [{ ...window, timeZone: 'EST5' }], key: 'policy.rules[0].timeZone' },
    { case: 'a deploy window on no day', rules: [{ ...window, days: [] }], key: 'policy.rules[0].days' },
    { case: 'a deploy window listing a day twice', rules: [{ ...window, days: ['Mon', 'Mon'] }], key: 'policy.rules[0].days' },
    { case: 'a deploy window on a bad day', rules: [{ ...window, days: ['Mon', 'mon'] }], key: 'policy.rules[0].days[1]' },
    { case: 'a deploy window from a bad time', rules: [{ ...window, from: '9:00:00' }], key: 'policy.rules[0].from' },
    { case: 'a deploy window to a bad time', rules: [{ ...window, to: '24:30' }], key: 'policy.rules[0].to' },
    { case: 'rules that are not a list', rules: 'none' as unknown as unknown[], key: 'policy.rules' },
  ])('$case is refused naming $key', ({ rules, key }) => {
    expect(refusedKey(rules)).toBe(key);
  });
});

describe('policy.external in crossfade.yaml', () => {
  const endpoint = { name: 'change-board', url: 'https://rules.example.com/judge', secret: { env: 'RULES_SECRET' } };

  function externalKey(external: unknown[], rules: unknown[] = []): string | undefined {
    try {
      parseConfig({ policy: { rules, external } }, SOURCE);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const { key, message } = error as ConfigError;
      expect(message).toContain(key);
      return key;
    }
    throw new Error('expected a ConfigError, but the endpoints were accepted');
  }

  it('fills in the defaults: 2000 ms, fail-closed, every service and environment', () => {
    expect(parseConfig({ policy: { external: [endpoint] } }, SOURCE).policy.external).toEqual([
      { ...endpoint, timeoutMs: 2000, failOpen: false, services: ['*'], environments: ['*'] },
    ]);
  });

  it.each([
    ['a timeout above 10 s', { ...endpoint, timeoutMs: 10_001 }, 'policy.external[0].timeoutMs'],
    ['a timeout of 0', { ...endpoint, timeoutMs: 0 }, 'policy.external[0].timeoutMs'],
    ['a secret that is neither env nor awsSecretsManager', { ...endpoint, secret: { vault: 'x' } }, 'policy.external[0].secret'],
    ['an env secret that is not a variable name', { ...endpoint, secret: { env: 'RULES SECRET' } }, 'policy.external[0].secret.env'],
    ['failOpen that is not a boolean', { ...endpoint, failOpen: 'yes' }, 'policy.external[0].failOpen'],
    ['an unknown field', { ...endpoint, retries: 3 }, 'policy.external[0].retries'],
    ['a bad name', { ...endpoint, name: 'Change_Board' }, 'policy.external[0].name'],
    ['a URL that is not one', { ...endpoint, url: 'rules service' }, 'policy.external[0].url'],
    ['an ftp URL', { ...endpoint, url: 'ftp://rules.example.com/' }, 'policy.external[0].url'],
    ['the AWS metadata address', { ...endpoint, url: 'http://169.254.169.254/latest/meta-data/' }, 'policy.external[0].url'],
    ['the GCP metadata host', { ...endpoint, url: 'http://metadata.google.internal/computeMetadata/v1/' }, 'policy.external[0].url'],
  ])('refuses %s, naming the key', (_name, bad, key) => {
    expect(externalKey([bad])).toBe(key);
  });

  it('refuses a name a rule or another endpoint has, naming the second', () => {
    expect(externalKey([endpoint, endpoint])).toBe('policy.external[1].name');
    expect(externalKey([endpoint], [{ ...cap, name: 'change-board' }])).toBe('policy.external[0].name');
  });

  it('refuses a host outside outbound.allowedHosts, naming the key', () => {
    expect(() => parseConfig({ policy: { external: [endpoint] }, outbound: { allowedHosts: ['*.internal.example.com'] } }, SOURCE)).toThrow(/policy\.external\[0\]\.url: host rules\.example\.com is not in outbound\.allowedHosts/);
  });
});
