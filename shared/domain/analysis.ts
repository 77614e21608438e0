/**
 * Analysis templates: which metrics judge a canary, how each is queried for the baseline and the
 * canary, and what the judge makes of it. Named templates live in crossfade.yaml
 * (`analysis.templates`); a deployment may also carry its metrics inline. A deployment keeps the
 * template as it was when it was created, so editing the configuration never changes a running
 * canary's judge.
 */
import { ValidationError } from './errors.js';
import { metricJudgeDefaults, validateJudgeConfig, type JudgeConfig } from './judge/index.js';

/**
 * What a metric without data in an interval means. `fail`: the metric fails (Kayenta's
 * mustHaveData); `ignore`: it does not count (Kayenta's Nodata; when half the metrics have none the
 * score is 0); `wait`: the judgment is deferred by one interval, at most `count` times, for
 * traffic to arrive, then the metric fails.
 */
export type NoDataPolicy = 'fail' | 'ignore' | 'wait';
export const NO_DATA_POLICIES: readonly NoDataPolicy[] = ['fail', 'ignore', 'wait'];

export type MetricDirection = 'increase' | 'decrease' | 'either';

export interface AnalysisMetric {
  name: string;
  /** The score group it counts in (`groupWeights`). */
  group: string;
  /** A configured metrics provider (`analysis.providers[].name`). */
  provider: string;
  /**
   * The query, with `{{version}}` standing for the scope's version and `{{service}}` for the
   * service. `baselineQuery`/`canaryQuery` replace it for one scope when the two differ more.
   */
  query: string;
  baselineQuery?: string;
  canaryQuery?: string;
  /** Cloud Monitoring only (ports/metrics-provider.ts). */
  aligner?: string;
  reducer?: string;
  /** The direction that is bad: `increase` for errors and latency. */
  direction: MetricDirection;
  critical: boolean;
  noData: NoDataPolicy;
  /** Also fail on a wider spread or a worse tail, which Kayenta's test alone misses (kayenta#780). */
  spreadCheck: boolean;
  /** Effect-size gates on the mean ratio canary/baseline (Kayenta's defaults: 1.0, i.e. none). */
  allowedIncrease?: number;
  allowedDecrease?: number;
  criticalIncrease?: number;
  criticalDecrease?: number;
}

export interface AnalysisTemplate {
  name: string;
  /** Resolution of the series asked from the provider. */
  stepSeconds: number;
  /** Kayenta's score thresholds: pass ≥ `pass`; a score ≤ `marginal` ends the analysis. */
  thresholds: { pass: number; marginal: number };
  /** Weight per group, summing to at most 100; groups not named share the rest. */
  groupWeights: Record<string, number>;
  metrics: AnalysisMetric[];
}

export const DEFAULT_THRESHOLDS = { pass: 95, marginal: 75 } as const;

/** The rules a template must follow beyond its shape; `field` prefixes the names in errors. */
export function checkTemplate(template: AnalysisTemplate, field: string, knownProviders: readonly string[]): void {
  if (template.metrics.length === 0) throw new ValidationError(`${field}.metrics must list at least one metric: an analysis without metrics judges nothing`, `${field}.metrics`, 'metrics-not-empty');
  const { pass, marginal } = template.thresholds;
  if (!(marginal <= pass)) throw new ValidationError(`${field}.thresholds.marginal (${marginal}) must not be above pass (${pass})`, `${field}.thresholds.marginal`, 'marginal-not-above-pass');
  const names = new Set<string>();
  template.metrics.forEach((metric, index) => {
    const at = `${field}.metrics[${index}]`;
    if (names.has(metric.name)) throw new ValidationError(`${at}.name "${metric.name}" is listed twice`, `${at}.name`, 'unique');
    names.add(metric.name);
    if (!knownProviders.includes(metric.provider)) {
      throw new ValidationError(`${at}.provider "${metric.provider}" is not a configured metrics provider (${knownProviders.join(', ') || 'none configured'})`, `${at}.provider`, 'known-provider');
    }
    checkPlaceholders(metric, at);
  });
  const total = Object.values(template.groupWeights).reduce((sum, w) => sum + w, 0);
  if (total > 100) throw new ValidationError(`${field}.groupWeights sum to ${total}; they must sum to at most 100`, `${field}.groupWeights`, 'weights-at-most-100');
  // The judge's own rules (a weight for a group no metric has, weights that cannot reach 100), now rather than at the first judgment.
  try {
    validateJudgeConfig(judgeConfigOf(template, false));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`${field}: ${error.message}`, `${field}.${error.field ?? 'groupWeights'}`, error.rule);
  }
}

/** The template in the judge's terms; `waitExhausted`: `wait` metrics now fail on no data. */
export function judgeConfigOf(template: AnalysisTemplate, waitExhausted: boolean): JudgeConfig {
  return {
    groupWeights: template.groupWeights,
    thresholds: template.thresholds,
    metrics: template.metrics.map((metric) =>
      metricJudgeDefaults({
        name: metric.name,
        groups: [metric.group],
        direction: metric.direction,
        critical: metric.critical,
        mustHaveData: metric.noData === 'fail' || (metric.noData === 'wait' && waitExhausted),
        effectSize: {
          ...(metric.allowedIncrease !== undefined ? { allowedIncrease: metric.allowedIncrease } : {}),
          ...(metric.allowedDecrease !== undefined ? { allowedDecrease: metric.allowedDecrease } : {}),
          ...(metric.criticalIncrease !== undefined ? { criticalIncrease: metric.criticalIncrease } : {}),
          ...(metric.criticalDecrease !== undefined ? { criticalDecrease: metric.criticalDecrease } : {}),
        },
        ...(metric.spreadCheck ? { spreadCheck: {} } : {}),
      }),
    ),
  };
}


/** What queryFor fills in: `{{service}}` and `{{version}}`. Anything else between `{{` and `}}` is a typo. */
export const QUERY_PLACEHOLDERS = ['service', 'version'] as const;
type Placeholder = (typeof QUERY_PLACEHOLDERS)[number];
const PLACEHOLDER = new RegExp(`\\{\\{(${QUERY_PLACEHOLDERS.join('|')})\\}\\}`, 'g');
/** The fields of a metric that queryFor renders. */
export const TEMPLATED_QUERY_FIELDS = ['query', 'baselineQuery', 'canaryQuery'] as const;

/** The query for one scope, with its placeholders filled in (in one pass: a value is never read as a placeholder). */
export function queryFor(metric: AnalysisMetric, scope: 'baseline' | 'canary', values: Record<Placeholder, string>): string {
  const text = (scope === 'baseline' ? metric.baselineQuery : metric.canaryQuery) ?? metric.query;
  return text.replace(PLACEHOLDER, (_, name: Placeholder) => values[name]);
}

/**
 * Every `{{` in `text` that does not open a known placeholder, as written up to its `}}` (or its
 * first characters when it is never closed). `{{ver}}` would otherwise reach the provider as it
 * is, and the mistake show only at the first judgment, after traffic moved.
 */
export function unknownPlaceholders(text: string): string[] {
  const found: string[] = [];
  for (let open = text.indexOf('{{'); open >= 0; ) {
    const known = QUERY_PLACEHOLDERS.find((name) => text.startsWith(`{{${name}}}`, open));
    if (known !== undefined) {
      open = text.indexOf('{{', open + known.length + 4);
      continue;
    }
    const close = text.indexOf('}}', open + 2);
    const closed = close >= 0 && close - open <= 40;
    found.push(closed ? text.slice(open, close + 2) : text.slice(open, open + 20) + (open + 20 < text.length ? '...' : ''));
    open = text.indexOf('{{', closed ? close + 2 : open + 2);
  }
  return found;
}

/** Each templated field uses only known placeholders; ValidationError `${at}.<field>`, rule `known-placeholders`. */
export function checkPlaceholders(metric: AnalysisMetric, at: string): void {
  for (const key of TEMPLATED_QUERY_FIELDS) {
    const text = metric[key];
    const unknown = text === undefined ? [] : unknownPlaceholders(text);
    if (unknown.length > 0) {
      throw new ValidationError(
        `${at}.${key} uses ${unknown.join(', ')}, which ${unknown.length > 1 ? 'are not placeholders' : 'is not a placeholder'}: the placeholders are ${QUERY_PLACEHOLDERS.map((name) => `{{${name}}}`).join(' and ')}`,
        `${at}.${key}`,
        'known-placeholders',
      );
    }
  }
}
