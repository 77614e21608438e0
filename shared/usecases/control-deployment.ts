/**
 * Operators' and Spinnaker's requests to a running deployment (docs/api.md): cancel, rollback, promote,
 * pause, resume. Each is a pure transition (domain/lifecycle.ts) written conditionally; a run waiting
 * in a hold (a pause, an analysis interval, a gate) is woken at once with the hold's token, and the
 * state machine sees the request at its next task.
 *
 * Cancel is idempotent and tolerant (Spinnaker calls it on any stage failure, sometimes twice): a
 * repeated cancel or a cancel of a finished deployment changes nothing and answers the document.
 */
import type { Deployment } from '../domain/deployment.js';
import { NotFoundError, VersionConflictError } from '../domain/errors.js';
import { cancelRequested, holdToWake, pauseRequested, promoteRequested, resumeRequested, rollbackRequested, type RequestOutcome } from '../domain/lifecycle.js';
import type { UseCaseDeps } from './deps.js';
import { ensureLastEvent, writeWithEvent } from './record-change.js';

export type ControlRequest = { kind: 'cancel' } | { kind: 'rollback' } | { kind: 'promote'; full: boolean } | { kind: 'pause' } | { kind: 'resume' };

export interface ControlCommand {
  deploymentId: string;
  request: ControlRequest;
  actor: string;
  reason: string | null;
  /** Checked against the deployment's service before anything is written (scopes). */
  authorize(service: string): void;
  /** The business rules judged at a promotion (four eyes), before it is written; throws to refuse. */
  admitPromotion?(current: Deployment): Promise<void>;
}

/** Races with the run's own writes are re-decided on a fresh read, a few times. */
const ATTEMPTS = 5;

export async function controlDeployment(deps: Pick<UseCaseDeps, 'deployments' | 'audit' | 'workflow' | 'clock' | 'logger' | 'crashPoints' | 'notifier'>, command: ControlCommand): Promise<Deployment> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.deployments.get(command.deploymentId);
    if (!current) throw new NotFoundError(`deployment ${command.deploymentId} does not exist`);
    command.authorize(current.service);
    const outcome = transition(current, command, deps.clock.now());
    if (!outcome.changed) {
      // A repeat of a request whose write landed but whose event or wake was lost: finish them now.
      await ensureLastEvent(deps, current);
      await wakeHold(deps, current, command);
      return current;
    }
    if (command.request.kind === 'promote') await command.admitPromotion?.(current);
    let deployment: Deployment;
    try {
      deployment = await writeWithEvent(deps, current, outcome.deployment, {
        verb: command.request.kind,
        actor: command.actor,
        reason: command.reason,
        details: { phase: outcome.deployment.phase, stepIndex: outcome.deployment.stepIndex, ...(command.request.kind === 'promote' ? { full: command.request.full } : {}) },
      });
    } catch (error) {
      if (error instanceof VersionConflictError && attempt < ATTEMPTS) continue;
      throw error;
    }
    deps.crashPoints?.reached(`control:${command.request.kind}:before-wake`);
    await wakeHold(deps, deployment, command);
    return deployment;
  }
}

/** A run waiting in a hold stored before this request's write is woken to decide again. A token already used answers 'stale'. */
async function wakeHold(deps: Pick<UseCaseDeps, 'workflow' | 'logger'>, d: Deployment, command: ControlCommand): Promise<void> {
  const hold = holdToWake(d);
  if (hold === null) return;
  const woken = await deps.workflow.wake(hold.token);
  deps.logger.info('hold woken', { deploymentId: d.id, request: command.request.kind, hold: hold.kind, woken });
}

function transition(d: Deployment, command: ControlCommand, now: Date): RequestOutcome {
  switch (command.request.kind) {
    case 'cancel':
      return cancelRequested(d, command.actor, command.reason, now);
    case 'rollback':
      return rollbackRequested(d, command.actor, command.reason, now);
    case 'promote':
      return promoteRequested(d, command.request.full, command.actor, command.reason, now);
    case 'pause':
      return pauseRequested(d, now);
    case 'resume':
      return resumeRequested(d, now);
  }
}
