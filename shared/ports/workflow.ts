/**
 * The engine that runs the canary state machine (shared/workflow/canary.asl.json): AWS Step
 * Functions in the cloud, aws-local-stepfunctions in the local stack and the tests.
 */
export interface Workflow {
  /**
   * Starts the run of a deployment, named after it. Idempotent: starting a deployment whose run
   * was already started is a no-op (Step Functions answers the same execution for the same name
   * and input). Throws DependencyUnavailableError when the engine cannot be reached.
   */
  start(deploymentId: string): Promise<void>;

  /**
   * Lets the run waiting at a gate with `token` go on. 'stale': nothing waits on that token any
   * more (already woken, timed out, or the run ended), which callers treat as done.
   */
  wake(token: string): Promise<'woken' | 'stale'>;
}
