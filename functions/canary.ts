/**
 * Lambda `canary`: every Task state of the canary state machine (shared/workflow/canary.asl.json)
 * calls it with `{action, deploymentId, expect, ...}` and routes on the `next` instruction it returns.
 * No endpoint discovery: a run moves traffic among registered versions.
 */
import { lambdaTaskHandler } from '../shared/platform/lambda-task.js';
import { composeDeps } from '../shared/runtime/compose.js';
import { metricsProvidersOf } from '../shared/runtime/metrics.js';
import { notificationsOf } from '../shared/runtime/notifications.js';
import { rulesServicesOf } from '../shared/runtime/policy.js';
import { workflowFromEnv } from '../shared/runtime/workflow.js';
import { runCanaryTask } from '../shared/usecases/canary/run-task.js';
import { canaryDefinition } from '../shared/workflow/definition.js';
import { retryBudgetOf } from '../shared/workflow/retry-budget.js';
import { parseTaskInput } from '../shared/workflow/task-input.js';

export const handler = lambdaTaskHandler(() => {
  const deps = { ...composeDeps({ env: process.env, configRequired: true, runs: workflowFromEnv, metrics: metricsProvidersOf, rulesServices: rulesServicesOf, notifications: notificationsOf }), retryBudget: retryBudgetOf(canaryDefinition()) };
  return (event) => runCanaryTask(deps, parseTaskInput(event));
});
