/**
 * Garbage-collection pauses in this process while a measurement runs. The load generator and the
 * server share one event loop, so a major GC stalls every request in flight at once: a p99 that
 * jumps together with a long pause here is the collector, not the code under test.
 */
import { PerformanceObserver } from 'node:perf_hooks';

export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
}

export function watchGc(): () => GcPauses {
  const pauses: GcPauses = { count: 0, totalMs: 0, maxMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      pauses.count++;
      pauses.totalMs += entry.duration;
      pauses.maxMs = Math.max(pauses.maxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    // Entries still buffered belong to the measurement too.
    for (const entry of observer.takeRecords()) {
      pauses.count++;
      pauses.totalMs += entry.duration;
      pauses.maxMs = Math.max(pauses.maxMs, entry.duration);
    }
    observer.disconnect();
    return pauses;
  };
}
