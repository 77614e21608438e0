/**
 * The engine that runs the canary state machine (shared/workflow/canary.asl.json): AWS Step
 * Functions in the cloud, aws-local-stepfunctions in the local stack and the tests.
 *
 * A run is driven by one execution at a time, named after its deployment (`dep_…`), then `dep_…-2`,
 * `dep_…-3`… when it continues as a new execution or is restarted after its execution died
 * (domain/deployment.ts `successorExecution`; the deployment records which one drives it).
 */
export type ExecutionState = 'running' | 'ended' | 'absent';

export interface Workflow {
  /**
   * Starts the execution `execution` (default: named after the deployment) of the deployment's
   * run. Idempotent: starting an execution that exists, running or ended, is a no-op (Step
   * Functions answers the same execution for the same name and input). Throws
   * DependencyUnavailableError when the engine cannot be reached.
   */
  start(deploymentId: string, execution?: string): Promise<void>;

  /**
   * Whether the execution of that name is running, has ended (succeeded, failed, timed out,
   * aborted), or was never started here. Throws DependencyUnavailableError.
   */
  executionState(execution: string): Promise<ExecutionState>;

  /**
   * Lets the run waiting in a hold with `token` go on. 'stale': nothing waits on that token any
   * more (already woken, timed out, or the run ended), which callers treat as done.
   */
  wake(token: string): Promise<'woken' | 'stale'>;
}
