/**
 * How many attempts the canary definition gives a task state that failed with a given error: its
 * first Retry entry whose ErrorEquals names the error (or States.ALL) allows MaxAttempts retries
 * after the first attempt. What "retrying … attempt 2 of 7" in a deployment's progress counts to.
 */
import type { AslDefinition } from './definition.js';

interface Retrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
}

/** Step Functions' default when a retrier names no MaxAttempts. */
const DEFAULT_MAX_ATTEMPTS = 3;

/** `(action, errorName) → attempts in all`, null when the state does not retry that error. */
export function retryBudgetOf(definition: AslDefinition): (action: string, errorName: string) => number | null {
  const stateOf = new Map<string, Record<string, unknown>>();
  for (const state of Object.values(definition.States)) {
    const action = actionOf(state);
    if (action !== undefined && !stateOf.has(action)) stateOf.set(action, state);
  }
  return (action, errorName) => {
    const retriers = (stateOf.get(action)?.['Retry'] ?? []) as Retrier[];
    const retrier = retriers.find((r) => r.ErrorEquals.includes(errorName) || r.ErrorEquals.includes('States.ALL'));
    return retrier ? 1 + (retrier.MaxAttempts ?? DEFAULT_MAX_ATTEMPTS) : null;
  };
}

/** The task action a state's Parameters (or its Lambda payload) name. */
function actionOf(state: Record<string, unknown>): string | undefined {
  const parameters = state['Parameters'] as Record<string, unknown> | undefined;
  const payload = parameters?.['Payload'] as Record<string, unknown> | undefined;
  const action = parameters?.['action'] ?? payload?.['action'];
  return typeof action === 'string' ? action : undefined;
}
