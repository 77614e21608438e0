/**
 * The shape of analysis templates and metrics providers, shared by crossfade.yaml
 * (`analysis.templates`, `analysis.providers`) and by inline metrics in `POST /v1/deployments`.
 */
import * as z from 'zod/mini';
import { DEFAULT_THRESHOLDS, NO_DATA_POLICIES } from './analysis.js';
import { RESOURCE_NAME_PATTERN } from './names.js';

const name = z.string().check(z.regex(RESOURCE_NAME_PATTERN, 'must be a DNS-1123 label (lower-case letters, digits, "-")'));
const query = z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(4000, 'must be at most 4000 characters'));
const score = z.number().check(z.minimum(0, 'must be from 0 to 100'), z.maximum(100, 'must be from 0 to 100'));
const ratio = z.number().check(z.positive('must be a positive ratio'));

export const analysisMetricSchema = z.strictObject({
  name,
  group: z._default(name, 'default'),
  provider: name,
  query,
  baselineQuery: z.optional(query),
  canaryQuery: z.optional(query),
  aligner: z.optional(z.string().check(z.regex(/^ALIGN_[A-Z_0-9]+$/, 'must be a Cloud Monitoring aligner such as ALIGN_RATE'))),
  reducer: z.optional(z.string().check(z.regex(/^REDUCE_[A-Z_0-9]+$/, 'must be a Cloud Monitoring reducer such as REDUCE_SUM'))),
  direction: z._default(z.enum(['increase', 'decrease', 'either'], 'must be increase, decrease or either'), 'either'),
  critical: z._default(z.boolean(), false),
  noData: z._default(z.enum(NO_DATA_POLICIES as ['fail', 'ignore', 'wait'], 'must be fail, ignore or wait'), 'ignore'),
  spreadCheck: z._default(z.boolean(), false),
  allowedIncrease: z.optional(ratio),
  allowedDecrease: z.optional(ratio),
  criticalIncrease: z.optional(ratio),
  criticalDecrease: z.optional(ratio),
});

const templateFields = {
  stepSeconds: z._default(z.int().check(z.minimum(1, 'must be from 1 to 3600'), z.maximum(3600, 'must be from 1 to 3600')), 10),
  thresholds: z._default(z.strictObject({ pass: score, marginal: score }), { ...DEFAULT_THRESHOLDS }),
  groupWeights: z._default(z.record(name, score), {}),
  metrics: z.array(analysisMetricSchema).check(z.maxLength(100, 'must list at most 100 metrics')),
};

export const analysisTemplateSchema = z.strictObject({ name, ...templateFields });

/** Inline in a deployment's analysis step: the same fields, without a name, all optional but metrics. */
export const inlineAnalysisFields = {
  metrics: z.optional(templateFields.metrics),
  stepSeconds: z.optional(z.int().check(z.minimum(1, 'must be from 1 to 3600'), z.maximum(3600, 'must be from 1 to 3600'))),
  thresholds: z.optional(z.strictObject({ pass: score, marginal: score })),
  groupWeights: z.optional(z.record(name, score)),
};

export const metricsProviderSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    name,
    kind: z.literal('prometheus'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    /** An environment variable holding a bearer token for Prometheus (never the token itself). */
    bearerTokenEnv: z.optional(z.string().check(z.regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name'))),
  }),
  z.strictObject({
    name,
    kind: z.literal('cloudwatch'),
    region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')),
    endpoint: z.optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  }),
  z.strictObject({
    name,
    kind: z.literal('cloud-monitoring'),
    project: z.string().check(z.regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id')),
    apiEndpoint: z.optional(z.string().check(z.minLength(1, 'must not be empty'))),
  }),
]);

export const analysisConfigSchema = z.strictObject({
  providers: z._default(z.array(metricsProviderSchema), []),
  templates: z._default(z.array(analysisTemplateSchema), []),
});

export type MetricsProviderConfig = z.infer<typeof metricsProviderSchema>;
export type AnalysisConfig = z.infer<typeof analysisConfigSchema>;
