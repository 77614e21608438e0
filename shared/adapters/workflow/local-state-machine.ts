/**
 * Workflow on aws-local-stepfunctions: the real canary definition executed in-process, for the local
 * stack and the tests. Every Task state runs the task function in-process (the same code the
 * Lambda runs); hold timeouts and retry intervals may be shortened here, through options, never by
 * editing the definition.
 *
 * Two service integrations are not native to the engine and are played here as AWS plays them:
 * - `.waitForTaskToken` (the Hold state): a token is minted per hold and handed to the task (which
 *   stores it with the deployment); `wake(token)` ends the hold as SendTaskSuccess does, and the
 *   hold's timeout (the instruction's seconds) ends it with `States.Timeout` as AWS does. The
 *   engine reads TimeoutSecondsPath from the input after Parameters (AWS reads the state's input),
 *   so it cannot resolve `$.next.seconds`: for those states the handler keeps the time, and the
 *   engine is given a fixed ceiling instead (`engineDefinition`);
 * - `states:startExecution` (the StartSuccessor state): starts the named execution here.
 * The Context Object is mocked so `$$.Task.Token` and `$$.Execution.Name` resolve.
 *
 * Executions live in this process: when it dies they are gone, and the deployments they drove are
 * resumed from their stored state by the next process (usecases/resume-runs.ts).
 */
import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { Logger } from '../../ports/logger.js';
import type { ExecutionState, Workflow } from '../../ports/workflow.js';

/** What a Task state hands the task function, and what it answers (shared/usecases/canary/run-task.ts). */
export type LocalTaskFunction = (input: Record<string, unknown>) => Promise<unknown>;

export interface LocalStateMachineOptions {
  definition: StateMachineDefinition;
  runTask: LocalTaskFunction;
  logger: Logger;
  /** Every timed hold (a pause, an analysis interval) lasts this long instead of its seconds; gates are never shortened. undefined: as the instruction says. */
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

interface PendingHold {
  wake: () => void;
  fail: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const START_EXECUTION = 'arn:aws:states:::states:startExecution';

/** Longer than any hold (a gate is re-armed weekly), and below setTimeout's 24.8-day limit. */
const ENGINE_HOLD_CEILING_SECONDS = 20 * 24 * 3600;

/** The definition as the engine can run it: a token task's TimeoutSecondsPath becomes a ceiling, the handler timing the hold itself. */
function engineDefinition(definition: StateMachineDefinition): StateMachineDefinition {
  const copy = structuredClone(definition) as StateMachineDefinition & { States: Record<string, Record<string, unknown>> };
  for (const state of Object.values(copy.States)) {
    if (state['Type'] !== 'Task' || !String(state['Resource'] ?? '').endsWith('.waitForTaskToken') || !('TimeoutSecondsPath' in state)) continue;
    delete state['TimeoutSecondsPath'];
    state['TimeoutSeconds'] = ENGINE_HOLD_CEILING_SECONDS;
  }
  return copy;
}

/** The error AWS raises when a task outlives its TimeoutSeconds(Path). */
class StatesTimeout extends Error {
  override readonly name = 'States.Timeout';
}

export class LocalStateMachine implements Workflow {
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, Execution>();
  private readonly holds = new Map<string, PendingHold>();
  private tokens = 0;

  constructor(private readonly options: LocalStateMachineOptions) {
    this.machine = new StateMachine(engineDefinition(options.definition));
  }

  async start(deploymentId: string, name: string = deploymentId): Promise<void> {
    if (this.executions.has(name)) return;
    const states = this.options.definition.States as Record<string, { Type: string; Resource?: string; Retry?: unknown[] }>;
    const handlers: NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']> = {};
    const retries: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(states)) {
      if (state.Type === 'Task') handlers[stateName] = this.handlerFor(state.Resource) as (typeof handlers)[string];
      if (state.Retry && this.options.retryMs !== undefined) retries[stateName] = this.options.retryMs;
    }
    const run = this.machine.run(
      { deploymentId },
      {
        overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retries },
        context: { Execution: { Id: `local:${name}`, Name: name }, Task: { Token: 'minted-per-hold' } },
        noThrowOnAbort: true,
      },
    );
    const execution: Execution = { result: run.result, abort: run.abort, outcome: 'running' };
    this.executions.set(name, execution);
    run.result.then(
      () => {
        if (execution.outcome === 'running') execution.outcome = 'succeeded';
        this.options.logger.info('canary execution ended', { deploymentId, execution: name, outcome: execution.outcome });
      },
      (error: unknown) => {
        execution.outcome = 'failed';
        execution.error = error instanceof Error ? error.message : String(error);
        this.options.logger.error('canary execution failed', { deploymentId, execution: name, error: execution.error });
      },
    );
  }

  async executionState(name: string): Promise<ExecutionState> {
    const execution = this.executions.get(name);
    if (!execution) return 'absent';
    return execution.outcome === 'running' ? 'running' : 'ended';
  }

  async wake(token: string): Promise<'woken' | 'stale'> {
    const hold = this.holds.get(token);
    if (!hold) return 'stale';
    this.holds.delete(token);
    clearTimeout(hold.timer);
    hold.wake();
    return 'woken';
  }

  /** Resolves when every execution of `deploymentId`'s run started here so far has ended (tests, shutdown). */
  async settled(deploymentId: string): Promise<Execution['outcome']> {
    for (;;) {
      const names = [...this.executions.keys()].filter((name) => name === deploymentId || name.startsWith(`${deploymentId}-`));
      if (names.length === 0) throw new Error(`no run was started for ${deploymentId}`);
      const last = this.executions.get(names.at(-1)!)!;
      await last.result.catch(() => undefined);
      // A continuation may have started a successor meanwhile: wait for it too.
      const now = [...this.executions.keys()].filter((name) => name === deploymentId || name.startsWith(`${deploymentId}-`));
      if (now.length === names.length) return last.outcome;
    }
  }

  /** Stops every execution where it is (the local stack's shutdown); their deployments are resumed by the next start. */
  stop(): void {
    for (const execution of this.executions.values()) {
      if (execution.outcome !== 'running') continue;
      execution.outcome = 'aborted';
      execution.abort();
    }
    for (const [token, hold] of this.holds) {
      clearTimeout(hold.timer);
      hold.fail(new Error('the local state machine stopped'));
      this.holds.delete(token);
    }
  }

  private handlerFor(resource: string | undefined): (input: unknown) => Promise<unknown> {
    if (resource === START_EXECUTION) return (input) => this.startSuccessor(input);
    if (resource?.endsWith('.waitForTaskToken')) return (input) => this.hold(input);
    return (input) => this.options.runTask(input as Record<string, unknown>);
  }

  private async startSuccessor(input: unknown): Promise<unknown> {
    const { Name, Input } = input as { Name: string; Input: { deploymentId: string } };
    await this.start(Input.deploymentId, Name);
    return { ExecutionArn: `local:${Name}` };
  }

  private async hold(input: unknown): Promise<unknown> {
    const { Payload } = input as { Payload: Record<string, unknown> & { expect?: { kind?: string; seconds?: number } } };
    const token = `local-hold-${++this.tokens}-${String(Payload['deploymentId'])}`;
    const seconds = Payload.expect?.seconds ?? 0;
    const timeoutMs = Payload.expect?.kind === 'wait' && this.options.waitMs !== undefined ? this.options.waitMs : seconds * 1000;
    const ended = new Promise<void>((wake, fail) => {
      const timer = setTimeout(() => {
        this.holds.delete(token);
        fail(new StatesTimeout(`the hold of ${String(Payload['deploymentId'])} lasted its ${seconds} s`));
      }, timeoutMs);
      timer.unref();
      this.holds.set(token, { wake, fail, timer });
    });
    ended.catch(() => undefined);
    try {
      await this.options.runTask({ ...Payload, token });
    } catch (error) {
      // The hold task failed (its retry mints another token): nothing will wait on this one.
      const pending = this.holds.get(token);
      if (pending) clearTimeout(pending.timer);
      this.holds.delete(token);
      throw error;
    }
    await ended;
    return {};
  }
}
