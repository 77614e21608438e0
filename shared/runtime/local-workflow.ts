/**
 * The canary state machine run in-process (local stack, tests): the real definition on
 * aws-local-stepfunctions, every Task state calling the same task code the Lambda runs.
 */
import { LocalStateMachine } from '../adapters/workflow/local-state-machine.js';
import type { CanaryDeps } from '../usecases/canary/deps.js';
import { runCanaryTask } from '../usecases/canary/run-task.js';
import { parseTaskInput } from '../workflow/task-input.js';
import { canaryDefinition } from '../workflow/definition.js';

export interface LocalWorkflowOptions {
  /** Every Wait state lasts this long (tests shorten waits here, never in the definition). */
  waitMs?: number | undefined;
  /** Every retry waits this long instead of its backoff. */
  retryMs?: number | undefined;
}

export function localWorkflow(deps: CanaryDeps, options: LocalWorkflowOptions = {}): LocalStateMachine {
  return new LocalStateMachine({
    definition: canaryDefinition() as never,
    runTask: (input) => runCanaryTask(deps, parseTaskInput(input)),
    logger: deps.logger,
    waitMs: options.waitMs,
    retryMs: options.retryMs,
  });
}
