/**
 * Accepts a canary deployment (API.md `POST /v1/deployments`).
 *
 * Idempotency without transactions, three single-item conditional writes in this order:
 *   1. claim the idempotency key with the whole new deployment inside the record;
 *   2. create the deployment if absent;
 *   3. append the audit event if absent.
 * Whoever loses step 1 (a replay, or a concurrent duplicate) adopts the winner's record and
 * performs 2 and 3 again. Both are no-ops when they already happened, and they finish a creation
 * whose first attempt crashed after step 1, so every answer ever given points at a deployment that
 * exists ("readable from the moment the create returned"), and N duplicates make one deployment.
 */
import { newDeployment, type Deployment, type SpinnakerOrigin, type Target, type VersionRef } from '../domain/deployment.js';
import { ConflictError, IdempotencyKeyReusedError, ValidationError } from '../domain/errors.js';
import { checkTargets, compileSteps, type WireStep } from '../domain/plan.js';
import type { AuditEvent } from '../ports/audit-log.js';
import type { UseCaseDeps } from './deps.js';

/** Spinnaker replays within minutes; a week covers every retry policy and manual re-run we know. */
export const IDEMPOTENCY_RETENTION_SECONDS = 7 * 24 * 3600;

export interface CreateDeploymentCommand {
  service: string;
  baseline: VersionRef | null;
  canary: VersionRef;
  targets: Target[];
  steps: WireStep[];
  /** Drain and deregister the baseline once the canary is promoted. */
  deregisterBaseline?: boolean;
  spinnaker: SpinnakerOrigin | null;
  reason: string | null;
  actor: string;
  idempotencyKey: string | undefined;
  /** sha256 of the canonical request: the same key with another request is refused. */
  requestHash: string;
}

export interface CreateDeploymentResult {
  /** The deployment as first created: a replay gets exactly the first answer. */
  deployment: Deployment;
  replayed: boolean;
}

export async function createDeployment(deps: UseCaseDeps, command: CreateDeploymentCommand): Promise<CreateDeploymentResult> {
  // A replay gets the first answer even if what it was checked against changed since (a version
  // deregistered, a template edited): it is checked before anything else.
  if (command.idempotencyKey !== undefined) {
    const first = await deps.idempotency.get(command.idempotencyKey);
    if (first) {
      if (first.requestHash !== command.requestHash) throw new IdempotencyKeyReusedError(command.idempotencyKey);
      return finishCreation(deps, first.deployment, command, true);
    }
  }
  const reachable = command.targets.length > 0 ? command.targets.map((t) => ({ name: t.cluster, cloud: t.cloud })) : deps.clusters;
  checkTargets(command.targets, deps.clusters);
  const steps = compileSteps(command.steps, reachable, deps.analysis);
  await checkRegistered(deps, command);

  const now = deps.clock.now();
  let deployment = newDeployment(
    {
      id: deps.ids.deploymentId(),
      service: command.service,
      baseline: command.baseline,
      canary: command.canary,
      targets: command.targets,
      steps,
      ...(command.deregisterBaseline ? { deregisterBaseline: true } : {}),
      createdBy: command.actor,
      reason: command.reason,
      spinnaker: command.spinnaker,
    },
    now,
  );
  let replayed = false;

  if (command.idempotencyKey !== undefined) {
    const outcome = await deps.idempotency.claim({
      key: command.idempotencyKey,
      requestHash: command.requestHash,
      deployment,
      createdAt: deployment.createdAt,
      expiresAtEpochSeconds: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_RETENTION_SECONDS,
    });
    if (!outcome.claimed) {
      if (outcome.record.requestHash !== command.requestHash) throw new IdempotencyKeyReusedError(command.idempotencyKey);
      deployment = outcome.record.deployment;
      replayed = true;
    }
  }

  return finishCreation(deps, deployment, command, replayed);
}

/** Steps 2 and 3 (and the run's start), for a new creation and a replay alike: each is a no-op when it happened already. */
async function finishCreation(deps: UseCaseDeps, deployment: Deployment, command: CreateDeploymentCommand, replayed: boolean): Promise<CreateDeploymentResult> {
  // A replay of a creation that landed changes nothing (its run may be over and its lock released).
  if (!replayed || !(await deps.deployments.get(deployment.id))) await lockService(deps, deployment, command.idempotencyKey);
  await deps.deployments.createIfAbsent(deployment);
  await deps.audit.append(createdEvent(deployment));
  // Starting is idempotent: a replay also starts a run whose first start was lost.
  await deps.workflow.start(deployment.id);
  deps.logger.info(replayed ? 'deployment create replayed' : 'deployment created', {
    deploymentId: deployment.id,
    service: deployment.service,
    canary: deployment.canary.version,
    actor: command.actor,
  });
  return { deployment, replayed };
}

/** API.md: one deployment per service at a time; a second gets 409 naming the holder. */
async function lockService(deps: UseCaseDeps, deployment: Deployment, idempotencyKey: string | undefined): Promise<void> {
  try {
    await deps.locks.acquire({ service: deployment.service, owner: deployment.id, now: deps.clock.now(), leaseMs: deps.settings.lockLeaseMs });
  } catch (error) {
    // Refused: the claimed key must not make a retry replay a deployment that never existed.
    if (error instanceof ConflictError && idempotencyKey !== undefined) await deps.idempotency.forget(idempotencyKey, deployment.id);
    throw error;
  }
}

/** "A deployment of a version that is not registered" is bad input: refused before anything is written. */
async function checkRegistered(deps: UseCaseDeps, command: CreateDeploymentCommand): Promise<void> {
  const state = await deps.registry.getService(command.service);
  const registered = new Set(state?.versions.map((v) => v.version) ?? []);
  const known = [...registered].join(', ') || 'none';
  if (!registered.has(command.canary.version)) {
    throw new ValidationError(`canary.version ${command.canary.version} is not registered for ${command.service} (registered: ${known}); register it with PUT /v1/services/${command.service}/versions/${command.canary.version}`, 'canary.version', 'registered');
  }
  if (command.baseline && !registered.has(command.baseline.version)) {
    throw new ValidationError(`baseline.version ${command.baseline.version} is not registered for ${command.service} (registered: ${known})`, 'baseline.version', 'registered');
  }
}

/** Keyed by the deployment's version, so a retried creation records one event. */
export function createdEvent(deployment: Deployment): AuditEvent {
  const origin = deployment.spinnaker;
  const why = deployment.reason ?? (origin?.pipeline ? `spinnaker pipeline ${origin.application ?? '?'}/${origin.pipeline} execution ${origin.executionId ?? '?'}` : null);
  return {
    subject: `deployment/${deployment.id}`,
    eventId: `v${String(deployment.version).padStart(6, '0')}-created`,
    at: deployment.createdAt,
    actor: deployment.createdBy,
    action: 'deployment.created',
    reason: why,
    details: {
      service: deployment.service,
      baseline: deployment.baseline?.version ?? null,
      canary: deployment.canary.version,
      targets: deployment.targets,
      steps: deployment.steps.length,
    },
  };
}
