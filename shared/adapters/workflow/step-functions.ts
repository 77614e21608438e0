/**
 * Workflow on AWS Step Functions (Standard): one execution per deployment, named after it, so a
 * second StartExecution of the same deployment is recognised instead of starting a second run.
 */
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { DependencyUnavailableError } from '../../domain/errors.js';
import type { Workflow } from '../../ports/workflow.js';

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

  async start(deploymentId: string): Promise<void> {
    try {
      // Same name and same input: Step Functions answers the running execution (idempotent start).
      await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: deploymentId, input: JSON.stringify({ deploymentId }) }));
    } catch (error) {
      // The execution of that name exists and has ended: the deployment ran already.
      if (nameOf(error) === 'ExecutionAlreadyExists') return;
      throw new DependencyUnavailableError(`Step Functions ${this.stateMachineArn}`, `start execution ${deploymentId}`, { cause: error, throttled: nameOf(error) === 'ThrottlingException' });
    }
  }

  async wake(token: string): Promise<'woken' | 'stale'> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
      return 'woken';
    } catch (error) {
      if (STALE_TOKEN_ERRORS.has(nameOf(error))) return 'stale';
      throw new DependencyUnavailableError(`Step Functions ${this.stateMachineArn}`, 'send task success', { cause: error, throttled: nameOf(error) === 'ThrottlingException' });
    }
  }
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : '';
}
