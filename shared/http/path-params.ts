/**
 * Every `{name}` a route path declares, with the rule its value must meet. Each becomes part of a
 * DynamoDB key (which caps a key at 2 KB and answers a longer one with an error, not a miss), so
 * each is checked for pattern and length before a route runs: a value that breaks the rule is a
 * 400 naming the parameter. A deployment id of the right shape that names nothing is a 404.
 * The HTTP core refuses to start with a route whose parameter has no rule here.
 */
import { ValidationError } from '../domain/errors.js';
import { SERVICE_NAME_PATTERN, SERVICE_NAME_RULE, VERSION_PATTERN, VERSION_RULE } from '../domain/names.js';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_RULE } from './schemas/create-deployment.js';

/** crossfade issues `dep_` + 26 characters (ports/ids.ts); the rule leaves room for other shapes, not for anything. */
const DEPLOYMENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const DEPLOYMENT_ID_RULE = '1-64 letters, digits, "_" or "-"';

/** usecases/reconcile-run.ts: `rec_` + 26 characters. */
const RECONCILE_RUN_ID_PATTERN = /^rec_[0-9a-z]{26}$/;

interface ParameterRule {
  pattern: RegExp;
  /** What the value must be, as the error message says it. */
  text: string;
  rule: string;
}

const PATH_PARAMETERS: Readonly<Record<string, ParameterRule>> = {
  id: { pattern: DEPLOYMENT_ID_PATTERN, text: DEPLOYMENT_ID_RULE, rule: 'deployment-id' },
  runId: { pattern: RECONCILE_RUN_ID_PATTERN, text: '"rec_" and 26 lower-case letters or digits', rule: 'reconcile-run-id' },
  service: { pattern: SERVICE_NAME_PATTERN, text: SERVICE_NAME_RULE, rule: 'service-name' },
  version: { pattern: VERSION_PATTERN, text: VERSION_RULE, rule: 'version-name' },
  // The key as X-Idempotency-Key carries it (percent-decoded here); stored as `<token id>/<key>`, under DynamoDB's 2 KB.
  idempotencyKey: { pattern: IDEMPOTENCY_KEY, text: IDEMPOTENCY_KEY_RULE, rule: 'idempotency-key' },
};

/** Throws at start-up (a programming error) when a route declares a parameter nothing checks. */
export function assertParameterHasRule(path: string, name: string): void {
  if (!Object.hasOwn(PATH_PARAMETERS, name)) throw new Error(`route ${path}: path parameter {${name}} has no rule in shared/http/path-params.ts`);
}

/** Throws ValidationError naming the first parameter whose value breaks its rule. */
export function checkPathParameters(params: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(params)) {
    const { pattern, text, rule } = PATH_PARAMETERS[name]!;
    if (!pattern.test(value)) throw new ValidationError(`${name} must be ${text}`, name, rule);
  }
}
