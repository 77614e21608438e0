/**
 * The body of `POST /v1/deployments` (docs/api.md). Strict: an unknown field is an error, because a
 * misspelt `setWieght` silently ignored would deploy something nobody asked for.
 */
import * as z from 'zod/mini';
import { inlineAnalysisFields } from '../../domain/analysis-schema.js';
import { cloudNames, type CloudName } from '../../domain/cloud.js';
import { ValidationError } from '../../domain/errors.js';
import { SERVICE_NAME_PATTERN, SERVICE_NAME_RULE, VERSION_PATTERN, VERSION_RULE } from '../../domain/names.js';
import type { WireStep } from '../../domain/plan.js';
import { strategySteps, type StrategyAnalysis } from '../../domain/strategies.js';
import { parseWith } from './zod-errors.js';
import type { CreatePolicyCommand } from '../../usecases/create-deployment.js';
import { requireAdmin, type Principal } from '../auth.js';

const MAX_STEPS = 50;
const MAX_TARGETS = 20;

const versionRef = z.strictObject({ version: z.string().check(z.regex(VERSION_PATTERN, `must be ${VERSION_RULE}`)) });
const shortText = (max: number) => z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));
const wholeNumber = (min: number, max: number) =>
  z.int().check(z.minimum(min, `must be between ${min} and ${max}`), z.maximum(max, `must be between ${min} and ${max}`));

const stepSchemas = {
  setWeight: z.strictObject({
    setWeight: wholeNumber(0, 100),
    wave: z.optional(
      z.array(shortText(63)).check(z.minLength(1, 'must name at least one cloud or cluster'), z.maxLength(MAX_TARGETS, `must name at most ${MAX_TARGETS} entries`)),
    ),
  }),
  pause: z.strictObject({ pause: z.strictObject({ duration: z.optional(shortText(32)) }) }),
  analysis: z.strictObject({
    analysis: z.strictObject({
      template: z.optional(z.string().check(z.regex(SERVICE_NAME_PATTERN, 'must be a template name (a DNS-1123 label)'))),
      ...inlineAnalysisFields,
      interval: shortText(32),
      count: wholeNumber(1, 100),
    }),
  }),
} as const;

const body = z.strictObject({
  service: z.string().check(z.regex(SERVICE_NAME_PATTERN, `must be ${SERVICE_NAME_RULE}`)),
  /** Where it deploys, as policy rules match it (docs/policy.md). */
  environment: z.optional(z.string().check(z.regex(SERVICE_NAME_PATTERN, `must be ${SERVICE_NAME_RULE}`))),
  baseline: z.optional(versionRef),
  canary: versionRef,
  targets: z.optional(
    z
      .array(z.strictObject({ cloud: z.enum(cloudNames as [CloudName, ...CloudName[]]), cluster: shortText(63) }))
      .check(z.maxLength(MAX_TARGETS, `must list at most ${MAX_TARGETS} clusters`)),
  ),
  steps: z.optional(
    z.array(z.record(z.string(), z.unknown())).check(z.minLength(1, 'must list at least one step'), z.maxLength(MAX_STEPS, `must list at most ${MAX_STEPS} steps`)),
  ),
  /** A ready-made plan instead of `steps` (domain/strategies.ts), with an optional analysis between its traffic steps. */
  strategy: z.optional(z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(64, 'must be at most 64 characters'))),
  analysis: z.optional(stepSchemas.analysis.shape.analysis),
  spinnaker: z.optional(
    z.strictObject({
      executionId: z.optional(shortText(128)),
      stageId: z.optional(shortText(64)),
      application: z.optional(shortText(128)),
      pipeline: z.optional(shortText(256)),
    }),
  ),
  reason: z.optional(shortText(500)),
  /** What happens once the canary serves 100%. */
  onPromotion: z.optional(z.strictObject({ deregisterBaseline: z._default(z.boolean(), false) })),
  /** Break glass (docs/policy.md): admin only; the named rules' refusals no longer block this deployment. */
  override: z.optional(
    z.strictObject({
      rules: z.array(z.string().check(z.regex(SERVICE_NAME_PATTERN, 'must be a policy rule name'))).check(z.minLength(1, 'must name at least one rule'), z.maxLength(50, 'must name at most 50 rules')),
      reason: shortText(500),
    }),
  ),
});

export type CreateDeploymentBody = Omit<z.infer<typeof body>, 'steps' | 'strategy' | 'analysis'> & { steps: WireStep[] };

export function parseCreateDeploymentBody(value: Record<string, unknown>): CreateDeploymentBody {
  const parsed = parseWith(body, value);
  if (parsed.baseline && parsed.baseline.version === parsed.canary.version) {
    throw new ValidationError('canary.version must differ from baseline.version', 'canary.version', 'canary-differs');
  }
  const { strategy, analysis, steps: listed, ...rest } = parsed;
  if ((listed === undefined) === (strategy === undefined)) {
    throw new ValidationError('exactly one of steps (a list) or strategy (a ready-made plan) must be given', listed === undefined ? 'steps' : 'strategy', 'steps-or-strategy');
  }
  if (analysis !== undefined && strategy === undefined) throw new ValidationError('analysis goes with a strategy; in steps, write it as a step', 'analysis', 'analysis-with-strategy');
  const steps = strategy !== undefined ? strategySteps(strategy, analysis as StrategyAnalysis | undefined) : listed!.map((step, index) => parseStep(step, index));
  return { ...rest, steps };
}

function parseStep(step: Record<string, unknown>, index: number): WireStep {
  const field = `steps[${index}]`;
  const kinds = (Object.keys(stepSchemas) as (keyof typeof stepSchemas)[]).filter((kind) => Object.hasOwn(step, kind));
  if (kinds.length !== 1) {
    throw new ValidationError(`${field} must have exactly one of setWeight, pause or analysis`, field, 'one-step-kind');
  }
  return parseWith(stepSchemas[kinds[0]!], step, field) as WireStep;
}

/** The part of a create the policy rules judge (usecases/create-deployment.ts), for the create and its dry run alike. */
export function createPolicyCommand(body: CreateDeploymentBody, actor: string): CreatePolicyCommand {
  return { service: body.service, environment: body.environment ?? null, canary: body.canary, baseline: body.baseline ?? null, targets: body.targets ?? [], steps: body.steps, actor, override: body.override ?? null };
}

/** Break glass is for operators: a create (or its dry run) carrying `override` needs scope admin. */
export function requireOverrideAllowed(principal: Principal, body: CreateDeploymentBody): void {
  if (body.override) requireAdmin(principal, `override policy rules ${body.override.rules.join(', ')}`, 'policy-override');
}

/** X-Idempotency-Key: printable ASCII, as Spinnaker's `${execution.id}-${#currentStage()['id']}` produces. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
export const IDEMPOTENCY_KEY_RULE = '1-200 printable ASCII characters without spaces';

/**
 * The caller's idempotency key (the header, or Spinnaker's execution and stage) and the key the use
 * case stores: the caller's within its principal's namespace, `<principal id>/<key>`, so one
 * caller can neither replay another's answer nor claim another's keys first. The id is
 * URI-encoded: token ids are left as they are, while an ARN's "/" and ":" are escaped, so no two
 * (principal, key) pairs make the same stored key.
 */
export function idempotencyKeyOf(tokenId: string, header: string | undefined, spinnaker: CreateDeploymentBody['spinnaker']): { caller: string; stored: string } | undefined {
  const caller = parseIdempotencyKey(header, spinnaker);
  return caller === undefined ? undefined : { caller, stored: `${encodeURIComponent(tokenId)}/${caller}` };
}

export function parseIdempotencyKey(header: string | undefined, spinnaker: CreateDeploymentBody['spinnaker']): string | undefined {
  if (header !== undefined) {
    if (!IDEMPOTENCY_KEY.test(header)) {
      throw new ValidationError(`X-Idempotency-Key must be ${IDEMPOTENCY_KEY_RULE}`, 'X-Idempotency-Key', 'idempotency-key');
    }
    return header;
  }
  if (spinnaker?.executionId && spinnaker.stageId) return `${spinnaker.executionId}-${spinnaker.stageId}`; // the same key the header convention gives
  return undefined;
}

/**
 * Where the body gives an analysis metrics of its own instead of naming a template
 * (`analysis.metrics` beside a strategy, or `steps[i].analysis.metrics`); undefined when nowhere.
 * `body` has passed parseCreateDeploymentBody.
 */
export function inlineMetricsField(body: Record<string, unknown>): string | undefined {
  const hasMetrics = (analysis: unknown) => typeof analysis === 'object' && analysis !== null && Object.hasOwn(analysis, 'metrics');
  if (hasMetrics(body['analysis'])) return 'analysis.metrics';
  const steps = Array.isArray(body['steps']) ? (body['steps'] as Record<string, unknown>[]) : [];
  const index = steps.findIndex((step) => hasMetrics(step['analysis']));
  return index === -1 ? undefined : `steps[${index}].analysis.metrics`;
}
