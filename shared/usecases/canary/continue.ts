/**
 * Continue: the run goes on in a new execution before this one nears Step Functions' history
 * limit (25,000 events per execution; canary.asl.json counts its tasks and continues past a bound
 * the history-budget test derives). The successor is recorded first, so the sweeper
 * (usecases/resume-runs.ts) looks for it, then the state machine starts it; a retry finds it
 * recorded and starts the same one.
 */
import { executionOf, successorExecution } from '../../domain/deployment.js';
import { executionMoved } from '../../domain/lifecycle.js';
import type { ActionWork } from './run-task.js';

export const continueAs: ActionWork = async (deps, d, input) => {
  const current = input.execution ?? d.id;
  // Already moved on (a retry whose write landed, or the sweeper restarted the run elsewhere).
  if (executionOf(d) !== current) return d;
  return executionMoved(d, successorExecution(d.id, current), deps.clock.now());
};
