/**
 * Cancel a deployment by the idempotency key its creation carries (docs/api.md
 * `POST /v1/deployments/by-key/{idempotencyKey}/cancel`). Spinnaker evaluates a stage's
 * cancelEndpoint when the stage starts, before the create has answered, so the only name it has
 * for the deployment is the key `${execution.id}-${stage id}` (docs/spinnaker.md).
 *
 * The key is claimed with a tombstone, on the same item a creation claims (one conditional write
 * decides who came first):
 * - the tombstone wins: no creation has the key, and one arriving later is refused (409) and
 *   writes nothing;
 * - a creation won: its deployment is canceled as `POST /v1/deployments/{id}/cancel` would;
 * - a creation won but its deployment is not written: the creation died between its claim and its
 *   deployment (or is between them now). The claim is replaced by the tombstone, so a retry of
 *   that creation starts nothing, and the deployment is looked up once more after the tombstone
 *   is written, in case it landed meanwhile. (A creation whose deployment write comes after that
 *   second look, milliseconds after its own claim, is not seen: docs/api.md says so.)
 * Every outcome answers the same way when repeated.
 */
import type { Deployment } from '../domain/deployment.js';
import { isTombstone, type IdempotencyTombstone } from '../ports/idempotency-store.js';
import { controlDeployment } from './control-deployment.js';
import { IDEMPOTENCY_RETENTION_SECONDS } from './create-deployment.js';
import type { UseCaseDeps } from './deps.js';

export interface CancelByKeyCommand {
  /** The key as stored (the caller's namespace included). */
  storedKey: string;
  actor: string;
  reason: string | null;
  /** Checked against the deployment's service before it is canceled (scopes). */
  authorize(service: string): void;
}

export type CancelByKeyOutcome = { kind: 'deployment'; deployment: Deployment } | { kind: 'before-create'; tombstone: IdempotencyTombstone };

export async function cancelByKey(deps: Pick<UseCaseDeps, 'idempotency' | 'deployments' | 'audit' | 'workflow' | 'clock' | 'logger' | 'crashPoints'>, command: CancelByKeyCommand): Promise<CancelByKeyOutcome> {
  const now = deps.clock.now();
  const tombstone: IdempotencyTombstone = {
    kind: 'canceled',
    key: command.storedKey,
    canceledAt: now.toISOString(),
    canceledBy: command.actor,
    reason: command.reason,
    expiresAtEpochSeconds: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_RETENTION_SECONDS,
  };
  const cancel = async (deploymentId: string): Promise<CancelByKeyOutcome> => ({
    kind: 'deployment',
    deployment: await controlDeployment(deps, { deploymentId, request: { kind: 'cancel' }, actor: command.actor, reason: command.reason, authorize: command.authorize }),
  });
  /** The deployment of a claim this cancel took the key from: it may have landed since. */
  let orphan: string | undefined;
  for (;;) {
    const outcome = await deps.idempotency.claim(tombstone);
    const entry = outcome.record;
    if (outcome.claimed || isTombstone(entry)) {
      if (orphan !== undefined && (await deps.deployments.get(orphan))) return cancel(orphan);
      deps.logger.info('idempotency key canceled before its creation', { key: command.storedKey, actor: command.actor, first: outcome.claimed });
      return { kind: 'before-create', tombstone: isTombstone(entry) ? entry : tombstone };
    }
    const deploymentId = entry.deployment.id;
    if (await deps.deployments.get(deploymentId)) return cancel(deploymentId);
    // The claim's creation never wrote its deployment (yet): take the key from it (a retry of it
    // then finds the tombstone), and look for the deployment once more after.
    command.authorize(entry.deployment.service);
    await deps.idempotency.forget(command.storedKey, deploymentId);
    orphan = deploymentId;
  }
}
