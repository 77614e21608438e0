/**
 * Suite `canary`: the figures of the canary orchestration issue.
 *
 * - `orchestration`: overhead per step of a 10-step canary with zero waits through the local stack.
 * - `judge`: one judgment of 50 metrics × 2 × 1,000 points (bench/canary/judge.ts).
 * - `concurrent`: 100 deployments of 100 different services at once through the local stack.
 */
import type { Suite } from '../lib/suite.js';
import { AIMS } from './aims.js';
import { measureConcurrent } from './concurrent.js';
import { judgeScenario } from './judge.js';
import { measureOrchestration } from './orchestration.js';

export const canary: Suite = {
  name: 'canary',
  summary: 'orchestration overhead per step, one judgment of 50 metrics, 100 concurrent deployments through the local stack',
  aims: AIMS,
  scenarios: [
    { name: 'orchestration', summary: 'a 10-step canary with zero waits through the local stack: wall time / steps, on the embedded store and DynamoDB Local', run: measureOrchestration },
    judgeScenario,
    { name: 'concurrent', summary: '100 deployments of 100 different services created at once: all accepted, all SUCCEEDED?', run: measureConcurrent },
  ],
};
