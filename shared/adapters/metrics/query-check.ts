/** What the adapters share to implement MetricsQueryChecker (ports/metrics-provider.ts). */
import { ValidationError } from '../../domain/errors.js';
import type { MetricWindow, QueryCheck } from '../../ports/metrics-provider.js';

/** A refusal of the query (ValidationError rule `query`, as queryRange raises it) as a check's answer; anything else is thrown on. */
export function refusalOf(error: unknown): QueryCheck {
  if (error instanceof ValidationError && error.rule === 'query') {
    const part = error.field === 'query.aligner' ? 'aligner' : error.field === 'query.reducer' ? 'reducer' : 'expression';
    return { kind: 'refused', reason: error.message, part };
  }
  throw error;
}

/** The least a system with a window to ask for is asked: the last minute, one point. */
export function probeWindow(now: Date): MetricWindow {
  return { start: new Date(now.getTime() - 60_000), end: now, stepSeconds: 60 };
}
