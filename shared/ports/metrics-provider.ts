/**
 * Reads one metric's time series over a window, for the judge. One adapter per monitoring system:
 * Prometheus (HTTP API `query_range`), Amazon CloudWatch (`GetMetricData`), Google Cloud Monitoring
 * (`timeSeries.list`). Analysis templates name a provider by its configured name and give, per
 * metric, one query for the baseline scope and one for the canary scope (the version already
 * substituted by the caller, so adapters never interpret templates).
 *
 * Contract for every adapter:
 * - queryRange is a read: idempotent, safe to repeat.
 * - The answer is the series' values in time order, one per point the system returned, as numbers.
 *   NaN stands for a point the system reports as missing or not a number ("NaN", "+Inf" stay as
 *   the numbers they name). An empty array means the system answered and has no data for the query
 *   in the window: that is not an error, the judge's no-data policy decides what it means.
 * - A query that yields several series is an error (the template must aggregate to one), never a
 *   silent pick: ValidationError naming the query and the rule `one-series`.
 * - The system refusing the query as malformed: ValidationError naming the query (rule `query`).
 * - Unreachable, 5xx, throttled or timed out after the adapter's own retries:
 *   DependencyUnavailableError naming the provider (retryable), so the caller can apply the
 *   no-data policy and record why.
 * - Credentials refused (401/403): ClusterAuthError is for clusters; a provider raises
 *   DependencyUnavailableError with `throttled: false` and a message naming the provider and the
 *   refusal, since retrying the analysis later with fixed credentials is the remedy.
 */

/** A time range and its resolution: points are `stepSeconds` apart, from `start` to `end` inclusive. */
export interface MetricWindow {
  start: Date;
  end: Date;
  stepSeconds: number;
}

export interface MetricQuery {
  /**
   * The provider's own language: PromQL for Prometheus; a metric math or Metrics Insights
   * expression for CloudWatch; a monitoring filter (`metric.type = "..." AND ...`) for Cloud
   * Monitoring.
   */
  expression: string;
  /** Cloud Monitoring only: `perSeriesAligner` (e.g. ALIGN_RATE, ALIGN_MEAN); others ignore it. */
  aligner?: string;
  /** Cloud Monitoring only: `crossSeriesReducer` (e.g. REDUCE_SUM, REDUCE_MEAN); others ignore it. */
  reducer?: string;
}

export interface MetricsProvider {
  /** The configured name, used in errors and in the recorded inputs of a judgment. */
  readonly name: string;
  queryRange(query: MetricQuery, window: MetricWindow): Promise<number[]>;
}

/**
 * What a system said of a query it was asked to check: `ok` (it ran it, with or without data), or
 * `refused`, why, and which part of the query it refused.
 */
export type QueryCheck = { kind: 'ok' } | { kind: 'refused'; reason: string; part: keyof MetricQuery };

/**
 * Optional capability of a MetricsProvider: asks the system whether it accepts a query, reading as
 * little as it can (an instant query, a one-minute window, one page), so a deployment whose
 * analysis the system would refuse is refused before any traffic moves.
 *
 * Contract:
 * - checkQuery is a read: idempotent, safe to repeat.
 * - `ok`: the system ran the query. Whether it has data, or how many series, is not checked: at
 *   creation the canary has no traffic yet.
 * - `refused`: the system refused the query as malformed, which queryRange reports as
 *   ValidationError rule `query`; `reason` is that error's message (it names the query), `part`
 *   the field it names (`expression`, or Cloud Monitoring's `aligner` or `reducer`).
 * - Unreachable, 5xx, throttled, timed out or credentials refused after the adapter's own retries:
 *   DependencyUnavailableError naming the provider, as for queryRange.
 */
export interface MetricsQueryChecker {
  checkQuery(query: MetricQuery): Promise<QueryCheck>;
}

/** Whether `provider` has the capability (a provider without it is simply not asked). */
export function canCheckQueries(provider: MetricsProvider): provider is MetricsProvider & MetricsQueryChecker {
  return typeof (provider as Partial<MetricsQueryChecker>).checkQuery === 'function';
}
