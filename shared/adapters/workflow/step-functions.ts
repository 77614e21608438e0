/**
 * Workflow on AWS Step Functions (Standard): executions named after the deployment (then `-2`,
 * `-3`… for continuations and restarts), so a second StartExecution of the same name is recognised
 * instead of starting a second run. An execution's ARN is derived from the state machine's and the
 * name (`arn:…:stateMachine:<machine>` → `arn:…:execution:<machine>:<name>`), so asking about one
 * needs no listing.
 *
 * The SDK is imported on the first call, not with this module: a function that never starts or
 * wakes a run (most requests of most functions) does not load it at cold start (docs/architecture.md
 * "Cold start").
 */
import type * as Sfn from '@aws-sdk/client-sfn';
import type { SFNClient, SFNClientConfig } from '@aws-sdk/client-sfn';
import { CrossfadeError, DependencyUnavailableError } from '../../domain/errors.js';
import type { ExecutionState, Workflow } from '../../ports/workflow.js';
import { commonJs } from '../first-use-import.js';

/** SendTaskSuccess answers these when nothing waits on the token any more. */
const STALE_TOKEN_ERRORS = new Set(['InvalidToken', 'TaskDoesNotExist', 'TaskTimedOut']);

export class StepFunctionsWorkflow implements Workflow {
  private sdk: Promise<{ client: SFNClient; sdk: typeof Sfn }> | undefined;

  constructor(
    private readonly stateMachineArn: string,
    private readonly config: SFNClientConfig = {},
  ) {}

  /** The client, built on first use with the SDK it comes from. */
  private connect() {
    this.sdk ??= import('@aws-sdk/client-sfn').then(commonJs).then((sdk) => ({ sdk, client: new sdk.SFNClient({ maxAttempts: 3, ...this.config }) }));
    return this.sdk;
  }

  async start(deploymentId: string, execution: string = deploymentId): Promise<void> {
    try {
      // Same name and same input: Step Functions answers the running execution (idempotent start).
      // The state machine's own continuation (canary.asl.json StartSuccessor) sends this same input.
      const { client, sdk } = await this.connect();
      await client.send(new sdk.StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: execution, input: JSON.stringify({ deploymentId }) }));
    } catch (error) {
      // The execution of that name exists and has ended: it ran already.
      if (nameOf(error) === 'ExecutionAlreadyExists') return;
      throw this.failure(error, `start execution ${execution}`);
    }
  }

  async executionState(execution: string): Promise<ExecutionState> {
    try {
      const { client, sdk } = await this.connect();
      const { status } = await client.send(new sdk.DescribeExecutionCommand({ executionArn: this.executionArn(execution) }));
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
      const { client, sdk } = await this.connect();
      await client.send(new sdk.SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
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
