/**
 * A closed-loop load generator: `concurrency` workers each send one request, wait for its answer,
 * then send the next, until `total` requests were sent or the deadline passed. Closed-loop means
 * latency under overload shows up as lower throughput rather than a growing queue, which is what
 * a fixed number of callers (Spinnaker stages, proxies polling) does to the service.
 */
import { startTimer } from './timing.js';

/** What one request came to. `problem` names a failure compactly ("500 InternalError"), so equal failures are counted together. */
export type TaskOutcome = { ok: true } | { ok: false; problem: string };

export interface LoadOptions {
  total: number;
  concurrency: number;
  /** No request starts after this long; the cell then reports how many it managed. */
  deadlineMs: number;
  task(index: number): Promise<TaskOutcome>;
}

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  /** Failure → how often it happened. */
  problems: Record<string, number>;
  /** Latencies of the successful requests only: a fast 500 must not flatter the percentiles. */
  latenciesMs: number[];
  elapsedMs: number;
  stoppedByDeadline: boolean;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, ok: 0, errors: 0, problems: {}, latenciesMs: [], elapsedMs: 0, stoppedByDeadline: false };
  const elapsed = startTimer();
  let next = 0;

  async function worker(): Promise<void> {
    while (next < options.total) {
      if (elapsed() > options.deadlineMs) {
        result.stoppedByDeadline = true;
        return;
      }
      const index = next++;
      result.sent++;
      const requestElapsed = startTimer();
      let outcome: TaskOutcome;
      try {
        outcome = await options.task(index);
      } catch (error) {
        outcome = { ok: false, problem: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
      const latencyMs = requestElapsed();
      if (outcome.ok) {
        result.ok++;
        result.latenciesMs.push(latencyMs);
      } else {
        result.errors++;
        result.problems[outcome.problem] = (result.problems[outcome.problem] ?? 0) + 1;
      }
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  result.elapsedMs = elapsed();
  return result;
}

/** "2× 500 InternalError; 1× ECONNRESET" — the most frequent first. */
export function describeProblems(problems: Record<string, number>): string {
  return Object.entries(problems)
    .sort((a, b) => b[1] - a[1])
    .map(([problem, count]) => `${count}× ${problem}`)
    .join('; ');
}
