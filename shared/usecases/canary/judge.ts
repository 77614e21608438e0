/**
 * One judgment of an analysis step: query every metric of the template for the baseline and the
 * canary over the step so far (Kayenta's growing window), judge (domain/judge), and decide with
 * Kayenta's multi-interval rule. Every judgment is recorded with its inputs in the audit log:
 * window, queries, values (or their summary when large), effect sizes, bounds, thresholds, score.
 *
 * A provider that cannot be reached counts as no data, and the metric's no-data policy decides:
 * `fail` fails it, `ignore` leaves it out (half the metrics without data scores 0), `wait` puts the
 * judgment off by one interval, at most `count` times, then fails it.
 */
import { judgeConfigOf, queryFor, type AnalysisMetric } from '../../domain/analysis.js';
import type { Deployment, JudgmentSummary } from '../../domain/deployment.js';
import { CrossfadeError, InternalError } from '../../domain/errors.js';
import { judge as judgePairs, runVerdict, type MetricSetPair } from '../../domain/judge/index.js';
import { judged, judgmentDeferred } from '../../domain/lifecycle.js';
import type { MetricWindow } from '../../ports/metrics-provider.js';
import type { CanaryDeps } from './deps.js';
import type { ActionWork } from './run-task.js';

/** Above this many points in one judgment, the audit keeps each series' summary instead of its values (an item stays far below 400 KB). */
const MAX_RECORDED_POINTS = 10_000;

interface Measured {
  metric: AnalysisMetric;
  baseline: number[];
  canary: number[];
  queries: { baseline: string; canary: string };
  /** Why a series is missing: the provider could not be asked. */
  unavailable?: string;
}

export const judge: ActionWork = async (deps, d) => {
  const step = d.steps[d.stepIndex];
  if (step?.kind !== 'analysis' || d.baseline === null || d.run.stepStartedAt === null) throw new InternalError(`deployment ${d.id} is not at an analysis step`);
  const now = deps.clock.now();
  const window: MetricWindow = { start: new Date(d.run.stepStartedAt), end: now, stepSeconds: step.template.stepSeconds };
  const measured = await Promise.all(step.template.metrics.map((metric) => measure(deps, d, metric, window)));

  const waiting = measured.filter((m) => m.metric.noData === 'wait' && !hasData(m));
  const mayDefer = d.run.analysisDeferrals < step.count;
  const recorded = { window: { start: window.start.toISOString(), end: window.end.toISOString(), stepSeconds: window.stepSeconds }, inputs: recordInputs(measured) };
  if (waiting.length > 0 && mayDefer) {
    deps.logger.info('judgment deferred: waiting for traffic', { deploymentId: d.id, metrics: waiting.map((m) => m.metric.name) });
    return { deployment: judgmentDeferred(d, now), auditDetails: { deferred: `no data yet for ${waiting.map((m) => m.metric.name).join(', ')}`, ...recorded } };
  }

  const config = judgeConfigOf(step.template, !mayDefer);
  const pairs: MetricSetPair[] = measured.map((m) => ({ metric: m.metric.name, control: m.baseline, experiment: m.canary }));
  const result = judgePairs(config, pairs);
  const scores = [...d.run.judgments.filter((j) => j.stepIndex === d.stepIndex).map((j) => j.score), result.summary.score];
  const verdict = runVerdict(scores, step.count, step.template.thresholds);
  const failed = verdict.status === 'failed';
  const summary: JudgmentSummary = {
    stepIndex: d.stepIndex,
    run: d.run.analysisRuns,
    at: now.toISOString(),
    score: result.summary.score,
    classification: result.summary.classification,
    reason: failed ? verdict.reason : (result.summary.reason ?? null),
  };
  const reason = failed ? `analysis ${d.stepIndex + 1}/${d.steps.length} failed: ${verdict.reason}${describeFailures(result)}` : verdict.status === 'passed' ? verdict.reason : '';
  const next = judged(d, summary, { pass: !failed, reason }, now);
  return { deployment: next, auditDetails: { judgment: result, verdict, ...recorded } };
};

async function measure(deps: CanaryDeps, d: Deployment, metric: AnalysisMetric, window: MetricWindow): Promise<Measured> {
  const provider = deps.metrics.get(metric.provider);
  if (!provider) throw new InternalError(`metrics provider ${metric.provider} is not wired (checked when the deployment was created)`);
  const values = { service: d.service };
  const queries = { baseline: queryFor(metric, 'baseline', { ...values, version: d.baseline!.version }), canary: queryFor(metric, 'canary', { ...values, version: d.canary.version }) };
  const ask = (expression: string) => provider.queryRange({ expression, ...(metric.aligner ? { aligner: metric.aligner } : {}), ...(metric.reducer ? { reducer: metric.reducer } : {}) }, window);
  try {
    const [baseline, canary] = await Promise.all([ask(queries.baseline), ask(queries.canary)]);
    return { metric, baseline, canary, queries };
  } catch (error) {
    // Unreachable after the adapter's retries: no data, and the metric's policy decides. A refused query is a configuration fault: it ends the run.
    if (error instanceof CrossfadeError && error.retryable) {
      deps.logger.warn('metric unavailable: judged as no data', { deploymentId: d.id, metric: metric.name, provider: metric.provider, error: error.message });
      return { metric, baseline: [], canary: [], queries, unavailable: error.message };
    }
    throw error;
  }
}

function hasData(m: Measured): boolean {
  return m.baseline.some((v) => !Number.isNaN(v)) && m.canary.some((v) => !Number.isNaN(v));
}

function recordInputs(measured: readonly Measured[]): Record<string, unknown>[] {
  const points = measured.reduce((sum, m) => sum + m.baseline.length + m.canary.length, 0);
  const keepValues = points <= MAX_RECORDED_POINTS;
  return measured.map((m) => ({
    metric: m.metric.name,
    provider: m.metric.provider,
    queries: m.queries,
    ...(m.unavailable ? { unavailable: m.unavailable, noDataPolicy: m.metric.noData } : {}),
    ...(keepValues ? { baseline: m.baseline.map(jsonNumber), canary: m.canary.map(jsonNumber) } : { points: { baseline: m.baseline.length, canary: m.canary.length } }),
  }));
}

/** NaN and infinities have no JSON spelling; the audit keeps them as strings. */
function jsonNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function describeFailures(result: ReturnType<typeof judgePairs>): string {
  // A critical metric without data fails the judgment on its own (score.ts), so it is named too.
  const failing = result.metrics.filter((m) => m.label !== 'Pass' && (m.label !== 'Nodata' || m.critical));
  if (failing.length === 0) return '';
  return ` (${failing.map((m) => `${m.metric}: ${m.label}${m.reason ? ` — ${m.reason}` : ''}`).join('; ')})`;
}
