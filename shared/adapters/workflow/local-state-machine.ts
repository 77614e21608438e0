/**
 * Workflow on aws-local-stepfunctions: the real canary definition executed in-process, for the local
 * stack and the tests. Every Task state runs the task function in-process (the same code the
 * Lambda runs); Wait states and retry intervals may be shortened here, through options, never by
 * editing the definition.
 *
 * `.waitForTaskToken` is not native to the engine (../shared/reference/toolchain.md §4): the Gate
 * state's override mints a token per gate, hands it to the task (which stores it with the
 * deployment) and returns a promise that `wake(token)` resolves, which is what SendTaskSuccess
 * does in AWS. The Context Object is mocked so `$$.Task.Token` resolves.
 */
import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { Logger } from '../../ports/logger.js';
import type { Workflow } from '../../ports/workflow.js';

/** What a Task state hands the task function, and what it answers (shared/usecases/canary/run-task.ts). */
export type LocalTaskFunction = (input: Record<string, unknown>) => Promise<unknown>;

export interface LocalStateMachineOptions {
  definition: StateMachineDefinition;
  runTask: LocalTaskFunction;
  logger: Logger;
  /** Every Wait state lasts this long instead of its SecondsPath; undefined: as the definition says. */
  waitMs?: number | undefined;
  /** Every retry waits this long instead of its backoff; undefined: as the definition says. */
  retryMs?: number | undefined;
}

interface Execution {
  result: Promise<unknown>;
  abort: () => void;
  outcome: 'running' | 'succeeded' | 'failed' | 'aborted';
  error?: string;
}

export class LocalStateMachine implements Workflow {
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, Execution>();
  private readonly gates = new Map<string, () => void>();
  private tokens = 0;

  constructor(private readonly options: LocalStateMachineOptions) {
    this.machine = new StateMachine(options.definition);
  }

  async start(deploymentId: string): Promise<void> {
    if (this.executions.has(deploymentId)) return;
    const states = this.options.definition.States as Record<string, { Type: string; Resource?: string; Retry?: unknown[] }>;
    const handlers: NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']> = {};
    const waits: Record<string, number> = {};
    const retries: Record<string, number> = {};
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const run = state.Resource?.endsWith('.waitForTaskToken') ? (input: unknown) => this.gate(input) : (input: unknown) => this.options.runTask(input as Record<string, unknown>);
        handlers[name] = run as (typeof handlers)[string];
      }
      if (state.Type === 'Wait' && this.options.waitMs !== undefined) waits[name] = this.options.waitMs;
      if (state.Retry && this.options.retryMs !== undefined) retries[name] = this.options.retryMs;
    }
    const run = this.machine.run(
      { deploymentId },
      {
        overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
        context: { Execution: { Id: `local:${deploymentId}`, Name: deploymentId }, Task: { Token: 'minted-per-gate' } },
        noThrowOnAbort: true,
      },
    );
    const execution: Execution = { result: run.result, abort: run.abort, outcome: 'running' };
    this.executions.set(deploymentId, execution);
    run.result.then(
      () => {
        if (execution.outcome === 'running') execution.outcome = 'succeeded';
        this.options.logger.info('canary run ended', { deploymentId, outcome: execution.outcome });
      },
      (error: unknown) => {
        execution.outcome = 'failed';
        execution.error = error instanceof Error ? error.message : String(error);
        this.options.logger.error('canary run failed', { deploymentId, error: execution.error });
      },
    );
  }

  async wake(token: string): Promise<'woken' | 'stale'> {
    const resolve = this.gates.get(token);
    if (!resolve) return 'stale';
    this.gates.delete(token);
    resolve();
    return 'woken';
  }

  /** Resolves when the run of `deploymentId` has ended (tests, and the local stack's shutdown). */
  async settled(deploymentId: string): Promise<Execution['outcome']> {
    const execution = this.executions.get(deploymentId);
    if (!execution) throw new Error(`no run was started for ${deploymentId}`);
    await execution.result.catch(() => undefined);
    return execution.outcome;
  }

  /** Stops every run where it is (the local stack's shutdown); their deployments resume nowhere. */
  stop(): void {
    for (const execution of this.executions.values()) {
      if (execution.outcome !== 'running') continue;
      execution.outcome = 'aborted';
      execution.abort();
    }
    this.gates.clear();
  }

  private async gate(input: unknown): Promise<unknown> {
    const { Payload } = input as { Payload: Record<string, unknown> };
    const token = `local-gate-${++this.tokens}-${String(Payload['deploymentId'])}`;
    const woken = new Promise<void>((resolve) => this.gates.set(token, resolve));
    try {
      await this.options.runTask({ ...Payload, token });
    } catch (error) {
      // The gate task failed (its retry mints another token): nothing will wait on this one.
      this.gates.delete(token);
      throw error;
    }
    await woken;
    return {};
  }
}
