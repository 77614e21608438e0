/**
 * Lambda `canary`: every Task state of the canary state machine (shared/workflow/canary.asl.json)
 * calls it with `{action, deploymentId, expect, ...}` and routes on the `next` instruction it returns.
 */
import { lambdaTaskHandler } from '../shared/platform/lambda-task.js';
import { buildHttpDeps } from '../shared/runtime/deps.js';
import { runCanaryTask } from '../shared/usecases/canary/run-task.js';
import { canaryDefinition } from '../shared/workflow/definition.js';
import { retryBudgetOf } from '../shared/workflow/retry-budget.js';
import { parseTaskInput } from '../shared/workflow/task-input.js';

export const handler = lambdaTaskHandler(() => {
  const deps = { ...buildHttpDeps({ env: process.env, configRequired: true }), retryBudget: retryBudgetOf(canaryDefinition()) };
  return (event) => runCanaryTask(deps, parseTaskInput(event));
});
