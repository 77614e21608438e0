/**
 * Before a deployment is written, its analysis queries are shown to their metrics providers, so
 * a query the system refuses (invalid PromQL, a bad filter) is a 400 at creation, not a run that
 * fails one interval after traffic moved.
 *
 * Each analysis metric's queries are rendered as the judge renders them (domain/analysis.ts
 * `queryFor`) for the baseline and the canary; each distinct query (provider, expression, aligner,
 * reducer) is checked once, at most `concurrency` at a time, all within one deadline.
 * - A refusal: ValidationError naming the step's field (`steps[2].analysis.metrics[0].query`, or
 *   `steps[2].analysis.template` with the template and metric in the message), rule
 *   `provider-accepts-query`.
 * - A provider that cannot be reached, refuses our credentials or does not answer before the
 *   deadline: DependencyUnavailableError naming it (503 with Retry-After). Nothing is written, and
 *   the caller (Spinnaker's webhook stage) may retry; a run started anyway would judge without data.
 * - A provider without the capability (ports/metrics-provider.ts MetricsQueryChecker) is not asked.
 */
import { queryFor, type AnalysisMetric, type AnalysisTemplate } from '../domain/analysis.js';
import { mapConcurrently } from '../domain/concurrency.js';
import type { Step } from '../domain/deployment.js';
import { DependencyUnavailableError, InternalError, ValidationError } from '../domain/errors.js';
import type { Logger } from '../ports/logger.js';
import { canCheckQueries, type MetricQuery, type MetricsProvider, type MetricsQueryChecker, type QueryCheck } from '../ports/metrics-provider.js';

export interface PreflightDeps {
  /** By configured provider name (the judge's own). */
  metrics: ReadonlyMap<string, MetricsProvider>;
  logger: Logger;
}

export interface PreflightVersions {
  /** null: resolved later from the serving version; the baseline's queries are then checked with the canary's version (only their text is in question). */
  baseline: string | null;
  canary: string;
}

export interface PreflightOptions {
  /** Checks in flight at once. */
  concurrency?: number;
  /** For all the checks together: the create request must answer well inside a function's 10 s. */
  timeoutMs?: number;
}

export const PREFLIGHT_DEFAULTS = { concurrency: 4, timeoutMs: 4_000 } as const;

/** The name plan.ts gives the template of a step's inline metrics. */
const INLINE_TEMPLATE = 'inline';

interface Origin {
  /** The step's field a refusal names. */
  field: string;
  /** The metric, as a message names it. */
  metric: string;
}

interface Check {
  provider: MetricsProvider & MetricsQueryChecker;
  query: MetricQuery;
  /** Where the query was first met, for a refusal of one of its parts. */
  origin(part: keyof MetricQuery): Origin;
}

export async function preflightAnalysis(deps: PreflightDeps, service: string, steps: readonly Step[], versions: PreflightVersions, options: PreflightOptions = {}): Promise<void> {
  const checks = distinctChecks(deps, service, steps, versions);
  if (checks.length === 0) return;
  const answers = await withinDeadline(checks, options.concurrency ?? PREFLIGHT_DEFAULTS.concurrency, options.timeoutMs ?? PREFLIGHT_DEFAULTS.timeoutMs);
  // The first refusal in plan order, whatever order the answers came in.
  const refused = checks.findIndex((_, index) => answers[index]!.kind === 'refused');
  if (refused >= 0) {
    const { reason, part } = answers[refused] as Extract<QueryCheck, { kind: 'refused' }>;
    const { field, metric } = checks[refused]!.origin(part);
    throw new ValidationError(`${field}: ${metric} cannot be judged: ${reason}`, field, 'provider-accepts-query');
  }
  deps.logger.info('analysis queries accepted by their providers', { service, checked: checks.length });
}

function distinctChecks(deps: PreflightDeps, service: string, steps: readonly Step[], versions: PreflightVersions): Check[] {
  const checks = new Map<string, Check>();
  const unable = new Set<string>();
  steps.forEach((step, stepIndex) => {
    if (step.kind !== 'analysis') return;
    step.template.metrics.forEach((metric, metricIndex) => {
      const provider = deps.metrics.get(metric.provider);
      if (!provider) throw new InternalError(`metrics provider ${metric.provider} is not wired (compileSteps checked it is configured)`);
      if (!canCheckQueries(provider)) return void unable.add(provider.name);
      for (const scope of ['baseline', 'canary'] as const) {
        const version = (scope === 'baseline' ? versions.baseline : null) ?? versions.canary;
        const query: MetricQuery = { expression: queryFor(metric, scope, { service, version }), ...(metric.aligner ? { aligner: metric.aligner } : {}), ...(metric.reducer ? { reducer: metric.reducer } : {}) };
        const key = JSON.stringify([provider.name, query.expression, query.aligner, query.reducer]);
        if (!checks.has(key)) checks.set(key, { provider, query, origin: (part) => originOf(step.template, metric, { scope, part, at: `steps[${stepIndex}].analysis`, metricIndex }) });
      }
    });
  });
  for (const name of unable) deps.logger.info('metrics provider cannot check queries: its analysis queries are not checked before the deployment starts', { provider: name });
  return [...checks.values()];
}

/** The field a refusal names: the inline metric's own (query, baselineQuery, canaryQuery, aligner, reducer), or the step's template, named in the message with its metric. */
function originOf(template: AnalysisTemplate, metric: AnalysisMetric, where: { scope: 'baseline' | 'canary'; part: keyof MetricQuery; at: string; metricIndex: number }): Origin {
  const own = where.scope === 'baseline' ? 'baselineQuery' : 'canaryQuery';
  const key = where.part !== 'expression' ? where.part : metric[own] === undefined ? 'query' : own;
  if (template.name === INLINE_TEMPLATE) return { field: `${where.at}.metrics[${where.metricIndex}].${key}`, metric: `metric ${metric.name}` };
  return { field: `${where.at}.template`, metric: `template ${template.name}, metric ${metric.name} (its ${key})` };
}

/** Every check's answer, in order; DependencyUnavailableError naming the provider when one fails or the deadline passes first. */
async function withinDeadline(checks: readonly Check[], concurrency: number, timeoutMs: number): Promise<QueryCheck[]> {
  const pending = new Set<Check>();
  let expired = false;
  const checking = mapConcurrently(checks, concurrency, async (check) => {
    if (expired) return { kind: 'ok' } as const; // answered already: the deadline passed
    pending.add(check);
    try {
      return await check.provider.checkQuery(check.query);
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      const { dependency, verb, throttled, retryAfterSeconds } = error;
      const { field, metric } = check.origin('expression');
      throw new DependencyUnavailableError(dependency, `${verb}, checking ${metric} of ${field} before any traffic moves`, { cause: error.cause, throttled, retryAfterSeconds });
    } finally {
      pending.delete(check);
    }
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      const late = [...new Set([...pending].map((c) => c.provider.name))].map((name) => `metrics provider ${name}`).join(', ');
      reject(new DependencyUnavailableError(late || 'metrics providers', `check the analysis queries before any traffic moves (no answer within ${timeoutMs} ms)`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([checking, deadline]);
  } finally {
    clearTimeout(timer);
    // Whatever the late checks still come to is of no use now; it must not be an unhandled rejection.
    checking.catch(() => {});
  }
}
