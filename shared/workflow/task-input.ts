/**
 * The input every Task state of canary.asl.json hands the task function, checked before use: a
 * malformed one is a wiring bug (InternalError), never something to act on.
 */
import * as z from 'zod/mini';
import { InternalError } from '../domain/errors.js';
import type { Instruction } from '../domain/lifecycle.js';
import { TASK_ACTIONS, type TaskInput } from '../usecases/canary/run-task.js';

const instruction = z.looseObject({ kind: z.string(), atVersion: z.int() });

const taskInput = z.looseObject({
  action: z.enum(TASK_ACTIONS),
  deploymentId: z.string().check(z.minLength(1)),
  expect: z.optional(instruction),
  token: z.optional(z.string()),
  timedOut: z.optional(z.boolean()),
  error: z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
  loop: z.optional(z.int().check(z.minimum(0))),
  execution: z.optional(z.string().check(z.minLength(1))),
});

export function parseTaskInput(value: unknown): TaskInput {
  const parsed = taskInput.safeParse(value);
  if (!parsed.success) throw new InternalError(`the state machine passed a task input crossfade does not understand: ${parsed.error.issues[0]?.message ?? 'invalid'} (${JSON.stringify(value).slice(0, 300)})`);
  const { action, deploymentId, expect, token, timedOut, error, loop, execution } = parsed.data;
  return { action, deploymentId, expect: expect as Instruction | undefined, token, timedOut, error, loop, execution };
}
