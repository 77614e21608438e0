/**
 * crossfade.yaml's `policy: { rules: [...] }` (docs/policy.md, docs/configuration.md): the shape
 * of every rule kind of types.ts. What a shape cannot say — one of `once`/`weekly`, valid time zones
 * and local times (calendar.ts), unique names — checkPolicyRules adds after parsing.
 */
import * as z from 'zod/mini';
import { ConfigError } from '../errors.js';
import { RESOURCE_NAME_PATTERN } from '../names.js';
import { GLOB_PATTERN } from '../scopes.js';
import { checkTimeZone, parseLocalDateTime, parseLocalTime } from './calendar.js';
import { DEFAULT_EXTERNAL_TIMEOUT_MS, MAX_EXTERNAL_TIMEOUT_MS, type ExternalRulesEndpoint } from './external.js';
import { WEEKDAYS, type PolicyRule } from './types.js';

const MAX_RULES = 200;
const name = z.string().check(z.regex(RESOURCE_NAME_PATTERN, 'must be a DNS-1123 label (lower-case letters, digits, "-")'));
const glob = z.string().check(z.regex(GLOB_PATTERN, 'must be a glob of 1-63 lower-case letters, digits, "-" and "*"'));
const globs = z._default(z.array(glob).check(z.minLength(1, 'must list at least one glob')), ['*']);
const positive = z.int().check(z.minimum(1, 'must be a positive whole number'));
const weekday = z.enum(WEEKDAYS, `must be one of ${WEEKDAYS.join(', ')}`);
const dayTime = z.strictObject({ day: weekday, time: z.string() });

const base = { name, services: globs, environments: globs };

const policyRule = z.discriminatedUnion('kind', [
  z.strictObject({
    ...base,
    kind: z.literal('freeze-window'),
    timeZone: z.string(),
    once: z.optional(z.strictObject({ start: z.string(), end: z.string() })),
    weekly: z.optional(z.strictObject({ from: dayTime, to: dayTime })),
  }),
  z.strictObject({
    ...base,
    kind: z.literal('deploy-window'),
    timeZone: z.string(),
    days: z.array(weekday).check(
      z.minLength(1, 'must list at least one day'),
      z.refine((days) => new Set(days).size === days.length, 'must not list a day twice'),
    ),
    from: z.string(),
    to: z.string(),
  }),
  z.strictObject({ ...base, kind: z.literal('concurrency-cap'), max: positive, per: z._default(z.enum(['global', 'cloud', 'proxy-group'], 'must be global, cloud or proxy-group'), 'global') }),
  z.strictObject({ ...base, kind: z.literal('required-analysis'), minJudgments: z._default(positive, 1) }),
  z.strictObject({ ...base, kind: z.literal('promotion-order'), after: name }),
  z.strictObject({ ...base, kind: z.literal('four-eyes') }),
  z.strictObject({ ...base, kind: z.literal('dependency-health'), dependsOn: z.array(name).check(z.minLength(1, 'must list at least one service')) }),
]);

const MAX_EXTERNAL = 10;
/** A minute: a rules service is not asked more than once a minute per held run unless configured so. */
export const DEFAULT_RECHECK_SECONDS = 60;
const secretReference = z.union(
  [
    z.strictObject({ env: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')) }),
    z.strictObject({ awsSecretsManager: z.string().check(z.regex(/^[A-Za-z0-9/_+=.@:-]{1,2048}$/, 'must be a Secrets Manager secret ARN or name')) }),
  ],
  'must be {env: VARIABLE} or {awsSecretsManager: <secret ARN or name>}',
);

/** An external rules service (external.ts); its URL is checked against `outbound` with the others (config.ts). */
const externalEndpoint = z.strictObject({
  ...base,
  url: z.string(),
  secret: secretReference,
  timeoutMs: z._default(
    z.int().check(z.minimum(1, `must be from 1 to ${MAX_EXTERNAL_TIMEOUT_MS}`), z.maximum(MAX_EXTERNAL_TIMEOUT_MS, `must be from 1 to ${MAX_EXTERNAL_TIMEOUT_MS}`)),
    DEFAULT_EXTERNAL_TIMEOUT_MS,
  ),
  failOpen: z._default(z.boolean(), false),
});

export const policySchema = z.strictObject({
  rules: z._default(z.array(policyRule).check(z.maxLength(MAX_RULES, `must list at most ${MAX_RULES} rules`)), []),
  external: z._default(z.array(externalEndpoint).check(z.maxLength(MAX_EXTERNAL, `must list at most ${MAX_EXTERNAL} rules services`)), []),
  /** How long a run held by a refusal that cannot say when it ends (a rules service) waits before asking again. */
  recheckSeconds: z._default(z.int().check(z.minimum(1, 'must be from 1 to 3600'), z.maximum(3600, 'must be from 1 to 3600')), DEFAULT_RECHECK_SECONDS),
});

export const NO_POLICY = { rules: [], external: [], recheckSeconds: DEFAULT_RECHECK_SECONDS };

/**
 * The names verdicts carry must be unique across rules and external endpoints (an override names
 * them); throws ConfigError naming the second one (`policy.external[0].name`).
 */
export function checkPolicyNames(rules: readonly PolicyRule[], external: readonly ExternalRulesEndpoint[]): void {
  const ruleNames = new Set(rules.map((rule) => rule.name));
  const seen = new Set<string>();
  external.forEach((endpoint, index) => {
    const key = `policy.external[${index}].name`;
    if (ruleNames.has(endpoint.name) || seen.has(endpoint.name)) throw new ConfigError(`${key}: "${endpoint.name}" is defined twice (rule and endpoint names share one namespace)`, key);
    seen.add(endpoint.name);
  });
}

/**
 * The checks a shape cannot make; throws ConfigError naming the field (`policy.rules[2].timeZone`).
 * @param field where the rules sit in the document.
 */
export function checkPolicyRules(rules: readonly PolicyRule[], field: string): void {
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    const at = `${field}[${index}]`;
    if (seen.has(rule.name)) throw new ConfigError(`${at}.name: "${rule.name}" is defined twice`, `${at}.name`);
    seen.add(rule.name);
    if (rule.kind === 'freeze-window') checkFreezeWindow(rule, at);
    if (rule.kind === 'deploy-window') {
      checkTimeZone(rule.timeZone, `${at}.timeZone`);
      parseLocalTime(rule.from, `${at}.from`);
      parseLocalTime(rule.to, `${at}.to`);
    }
  });
}

function checkFreezeWindow(rule: Extract<PolicyRule, { kind: 'freeze-window' }>, at: string): void {
  checkTimeZone(rule.timeZone, `${at}.timeZone`);
  if ((rule.once === undefined) === (rule.weekly === undefined)) {
    throw new ConfigError(`${at} must have exactly one of once (a one-off span) or weekly (a recurring one)`, at);
  }
  if (rule.once) {
    if (parseLocalDateTime(rule.once.end, `${at}.once.end`) <= parseLocalDateTime(rule.once.start, `${at}.once.start`)) throw new ConfigError(`${at}.once.end must be after once.start`, `${at}.once.end`);
  }
  if (rule.weekly) {
    parseLocalTime(rule.weekly.from.time, `${at}.weekly.from.time`);
    parseLocalTime(rule.weekly.to.time, `${at}.weekly.to.time`);
  }
}
