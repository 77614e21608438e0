/**
 * The body of `POST /v1/deployments` (API.md). Strict: an unknown field is an error, because a
 * misspelt `setWieght` silently ignored would deploy something nobody asked for.
 */
import { z } from 'zod';
import { cloudNames } from '../../domain/cloud.js';
import { ValidationError } from '../../domain/errors.js';
import { SERVICE_NAME_PATTERN, SERVICE_NAME_RULE, VERSION_PATTERN, VERSION_RULE } from '../../domain/names.js';
import type { WireStep } from '../../domain/plan.js';
import { parseWith } from './zod-errors.js';

const MAX_STEPS = 50;
const MAX_TARGETS = 20;

const versionRef = z.strictObject({ version: z.string().regex(VERSION_PATTERN, `must be ${VERSION_RULE}`) });
const shortText = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

const stepSchemas = {
  setWeight: z.strictObject({
    setWeight: z.int('must be a whole number').min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100'),
    wave: z.array(shortText(63)).min(1, 'must name at least one cloud or cluster').max(MAX_TARGETS).optional(),
  }),
  pause: z.strictObject({ pause: z.strictObject({ duration: shortText(32).optional() }) }),
  analysis: z.strictObject({
    analysis: z.strictObject({
      template: z.string().regex(SERVICE_NAME_PATTERN, 'must be a template name (a DNS-1123 label)'),
      interval: shortText(32),
      count: z.int('must be a whole number').min(1, 'must be between 1 and 100').max(100, 'must be between 1 and 100'),
    }),
  }),
} as const;

const body = z.strictObject({
  service: z.string().regex(SERVICE_NAME_PATTERN, `must be ${SERVICE_NAME_RULE}`),
  baseline: versionRef.optional(),
  canary: versionRef,
  targets: z
    .array(z.strictObject({ cloud: z.enum(cloudNames as [string, ...string[]], `must be one of ${cloudNames.join(', ')}`), cluster: shortText(63) }))
    .max(MAX_TARGETS, `must list at most ${MAX_TARGETS} clusters`)
    .optional(),
  steps: z.array(z.record(z.string(), z.unknown(), 'must be an object')).min(1, 'must list at least one step').max(MAX_STEPS, `must list at most ${MAX_STEPS} steps`),
  spinnaker: z
    .strictObject({ executionId: shortText(128).optional(), stageId: shortText(64).optional(), application: shortText(128).optional(), pipeline: shortText(256).optional() })
    .optional(),
  reason: shortText(500).optional(),
});

export type CreateDeploymentBody = Omit<z.infer<typeof body>, 'steps' | 'targets'> & {
  steps: WireStep[];
  targets?: { cloud: 'aws' | 'gcp'; cluster: string }[];
};

export function parseCreateDeploymentBody(value: Record<string, unknown>): CreateDeploymentBody {
  const parsed = parseWith(body, value);
  if (parsed.baseline && parsed.baseline.version === parsed.canary.version) {
    throw new ValidationError('canary.version must differ from baseline.version', 'canary.version', 'canary-differs');
  }
  const steps = parsed.steps.map((step, index) => parseStep(step, index));
  return { ...parsed, steps, targets: parsed.targets as CreateDeploymentBody['targets'] };
}

function parseStep(step: Record<string, unknown>, index: number): WireStep {
  const field = `steps[${index}]`;
  const kinds = (Object.keys(stepSchemas) as (keyof typeof stepSchemas)[]).filter((kind) => kind in step);
  if (kinds.length !== 1) {
    throw new ValidationError(`${field} must have exactly one of setWeight, pause or analysis`, field, 'one-step-kind');
  }
  return parseWith(stepSchemas[kinds[0]!], step, field) as WireStep;
}

/** X-Idempotency-Key: printable ASCII, as Spinnaker's `${execution.id}-${#currentStage()['id']}` produces. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function parseIdempotencyKey(header: string | undefined, spinnaker: CreateDeploymentBody['spinnaker']): string | undefined {
  if (header !== undefined) {
    if (!IDEMPOTENCY_KEY.test(header)) {
      throw new ValidationError('X-Idempotency-Key must be 1-200 printable ASCII characters without spaces', 'X-Idempotency-Key', 'idempotency-key');
    }
    return header;
  }
  if (spinnaker?.executionId && spinnaker.stageId) return `${spinnaker.executionId}-${spinnaker.stageId}`; // the same key the header convention gives
  return undefined;
}
