/**
 * Workflow on AWS Step Functions (Standard): executions named after the deployment (then `-2`,
 * `-3`… for continuations and restarts), so a second StartExecution of the same name is recognised
 * instead of starting a second run. An execution's ARN is derived from the state machine's and the
 * name (`arn:…:stateMachine:<machine>` → `arn:…:execution:<machine>:<name>`), so asking about one
 * needs no listing.
 */
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { CrossfadeError, DependencyUnavailableError } from '../../domain/errors.js';
import type { ExecutionState, Workflow } from '../../ports/workflow.js';

/** SendTaskSuccess answers these when nothing waits on the token any more. */
const STALE_TOKEN_ERRORS = new Set(['InvalidToken', 'TaskDoesNotExist', 'TaskTimedOut']);

export class StepFunctionsWorkflow implements Workflow {
  private readonly client: SFNClient;

  constructor(
    private readonly stateMachineArn: string,
    config: SFNClientConfig = {},
  ) {
    this.client = new SFNClient({ maxAttempts: 3, ...config });
  }

  async start(deploymentId: string, execution: string = deploymentId): Promise<void> {
    try {
      // Same name and same input: Step Functions answers the running execution (idempotent start).
      // The state machine's own continuation (canary.asl.json StartSuccessor) sends this same input.
      await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: execution, input: JSON.stringify({ deploymentId }) }));
    } catch (error) {
      // The execution of that name exists and has ended: it ran already.
      if (nameOf(error) === 'ExecutionAlreadyExists') return;
      throw this.failure(error, `start execution ${execution}`);
    }
  }

  async executionState(execution: string): Promise<ExecutionState> {
    try {
      const { status } = await this.client.send(new DescribeExecutionCommand({ executionArn: this.executionArn(execution) }));
      return status === 'RUNNING' ? 'running' : 'ended';
    } catch (error) {
      if (nameOf(error) === 'ExecutionDoesNotExist') return 'absent';
      throw this.failure(error, `describe execution ${execution}`);
    }
  }

  private executionArn(execution: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${execution}`;
  }

  async wake(token: string): Promise<'woken' | 'stale'> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
      return 'woken';
    } catch (error) {
      if (STALE_TOKEN_ERRORS.has(nameOf(error))) return 'stale';
      throw this.failure(error, 'send task success');
    }
  }

  private failure(error: unknown, verb: string): Error {
    // Already ours: the credentials provider's (a role that refuses our identity, STS unreachable).
    if (error instanceof CrossfadeError) return error;
    return new DependencyUnavailableError(`Step Functions ${this.stateMachineArn}`, verb, { cause: error, throttled: nameOf(error) === 'ThrottlingException' });
  }
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : '';
}
