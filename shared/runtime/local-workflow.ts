/**
 * The canary state machine run in-process (local stack, tests): the real definition on
 * aws-local-stepfunctions, every Task state calling the same task code the Lambda runs.
 */
import { LocalStateMachine } from '../adapters/workflow/local-state-machine.js';
import type { CanaryDeps } from '../usecases/canary/deps.js';
import { runCanaryTask } from '../usecases/canary/run-task.js';
import { parseTaskInput } from '../workflow/task-input.js';
import { canaryDefinition } from '../workflow/definition.js';
import { retryBudgetOf } from '../workflow/retry-budget.js';

export interface LocalWorkflowOptions {
  /** Every timed hold lasts this long (tests shorten pauses and intervals here, never in the definition). */
  waitMs?: number | undefined;
  /** Every retry waits this long instead of its backoff. */
  retryMs?: number | undefined;
}

export function localWorkflow(deps: CanaryDeps, options: LocalWorkflowOptions = {}): LocalStateMachine {
  const definition = canaryDefinition();
  const taskDeps: CanaryDeps = { ...deps, retryBudget: retryBudgetOf(definition) };
  const machine = new LocalStateMachine({
    definition: definition as never,
    runTask: (input) => runCanaryTask(taskDeps, parseTaskInput(input)),
    logger: deps.logger,
    waitMs: options.waitMs,
    retryMs: options.retryMs,
  });
  // A task wakes holds of this machine (a gate reached after a promote already passed it): `deps`
  // was built before the machine existed and still names the Step Functions workflow.
  taskDeps.workflow = machine;
  return machine;
}
