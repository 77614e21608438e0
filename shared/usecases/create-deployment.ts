/**
 * Accepts a canary deployment (docs/api.md `POST /v1/deployments`).
 *
 * Idempotency and atomicity without transactions, single-item conditional writes in this order:
 *   1. claim the idempotency key with the whole new deployment inside the record;
 *   2. claim a slot in every concurrency cap's scope it joins (usecases/cap-slots.ts: a full one is
 *      403 POLICY_DENIED, its other slots and the key's claim taken back), then mark the run active
 *      (ports/active-runs.ts: what the sweeper drives to an end);
 *   3. create the deployment if absent (its `created` event kept inside it);
 *   4. take the service's lock for it;
 *   5. append the `created` event if absent;
 *   6. start its run (idempotent by execution name).
 * Whoever loses step 1 (a replay, or a concurrent duplicate) adopts the winner's record and
 * performs 2-6 again; each is a no-op when it already happened, so a retry finishes a creation
 * whose first attempt died anywhere, and N duplicates make one deployment.
 *
 * Whatever instant a creation dies at, the result is nothing a client was told about (the retry
 * with the same key creates it), or a deployment that will run: the sweeper starts a marked,
 * unstarted deployment after a grace period, and its prepare takes the lock or ends it, saying why.
 * The lock is taken after the deployment exists, so it never names a deployment that does not.
 * A lock held by another deployment (409) deletes the unstarted deployment again, and the mark
 * and the key's claim with it. A key canceled before its creation arrived (cancel-by-key.ts) makes
 * the creation a 409 that writes nothing.
 */
import { executionOf, newDeployment, type Deployment, type Step, type SpinnakerOrigin, type Target, type VersionRef } from '../domain/deployment.js';
import { ConflictError, IdempotencyKeyCanceledError, IdempotencyKeyReusedError, PolicyDeniedError, ValidationError } from '../domain/errors.js';
import { appendEvent } from './record-change.js';
import { checkTargets, compileSteps, type WireStep } from '../domain/plan.js';
import type { AuditEvent } from '../ports/audit-log.js';
import { isTombstone, type IdempotencyTombstone } from '../ports/idempotency-store.js';
import type { UseCaseDeps } from './deps.js';
import { preflightAnalysis } from './preflight-analysis.js';
import { checkPolicy, denialOf, type PolicyCheck } from './policy-check.js';
import { overriddenEvent, policyDetails, recordDenial } from './policy-audit.js';
import { claimCapSlots, releaseCapSlots } from './cap-slots.js';
import type { Verdict } from '../domain/policy/types.js';

/** Spinnaker replays within minutes; a week covers every retry policy and manual re-run we know. */
export const IDEMPOTENCY_RETENTION_SECONDS = 7 * 24 * 3600;

export interface CreateDeploymentCommand {
  service: string;
  /** null: none named (it then meets only policy rules scoped to every environment). */
  environment?: string | null;
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
  /** Break glass (docs/policy.md): policy rules whose refusals an admin overrides for this deployment; the caller checked the admin scope. */
  override?: { rules: string[]; reason: string } | null;
}

/** What the policy rules look at in a create. */
export type CreatePolicyCommand = Pick<CreateDeploymentCommand, 'service' | 'environment' | 'canary' | 'baseline' | 'targets' | 'steps' | 'actor' | 'override'>;

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
      if (isTombstone(first)) throw canceledFirst(first);
      if (first.requestHash !== command.requestHash) throw new IdempotencyKeyReusedError(command.idempotencyKey);
      return finishCreation(deps, first.deployment, command, true);
    }
  }
  const steps = compilePlan(deps, command);
  await checkRegistered(deps, command);
  const decision = await judgeCreate(deps, command, steps);
  if (!decision.allowed) await refuseCreate(deps, command, decision);
  // Before anything is written and any traffic moves: the providers must accept every analysis query.
  await preflightAnalysis(deps, command.service, steps, { baseline: command.baseline?.version ?? null, canary: command.canary.version });

  const now = deps.clock.now();
  let deployment = withCreatedEvent(newDeployment(
    {
      id: deps.ids.deploymentId(),
      service: command.service,
      ...(command.environment ? { environment: command.environment } : {}),
      baseline: command.baseline,
      canary: command.canary,
      targets: command.targets,
      steps,
      ...(command.deregisterBaseline ? { deregisterBaseline: true } : {}),
      createdBy: command.actor,
      reason: command.reason,
      spinnaker: command.spinnaker,
      ...(command.override ? { policyOverride: { ...command.override, by: command.actor, at: now.toISOString() } } : {}),
    },
    now,
  ), decision);
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
      if (isTombstone(outcome.record)) throw canceledFirst(outcome.record);
      if (outcome.record.requestHash !== command.requestHash) throw new IdempotencyKeyReusedError(command.idempotencyKey);
      deployment = outcome.record.deployment;
      replayed = true;
    }
  }

  return finishCreation(deps, deployment, command, replayed);
}

/** The plan as the run will follow it; a bad step or target is a ValidationError naming it. */
function compilePlan(deps: UseCaseDeps, command: Pick<CreateDeploymentCommand, 'targets' | 'steps'>): Step[] {
  const reachable = command.targets.length > 0 ? command.targets.map((t) => ({ name: t.cluster, cloud: t.cloud })) : deps.clusters;
  checkTargets(command.targets, deps.clusters);
  return compileSteps(command.steps, reachable, deps.analysis);
}

function judgeCreate(deps: UseCaseDeps, command: CreatePolicyCommand, steps: readonly Step[]): Promise<PolicyCheck> {
  const overriddenRules = command.override?.rules ?? [];
  checkOverriddenNames(deps, overriddenRules);
  const subject = { service: command.service, environment: command.environment ?? null, canaryVersion: command.canary.version, baselineVersion: command.baseline?.version ?? null, steps, createdBy: command.actor, targets: command.targets, overriddenRules };
  return checkPolicy(deps, subject, { moment: 'create', principal: command.actor });
}

/** An override names configured rules or rules services only: a typo must not look like an override that took. */
function checkOverriddenNames(deps: UseCaseDeps, names: readonly string[]): void {
  const known = new Set([...deps.policyRules.map((rule) => rule.name), ...deps.rulesServices.map(({ endpoint }) => endpoint.name)]);
  names.forEach((name, index) => {
    if (!known.has(name)) throw new ValidationError(`override.rules[${index}]: "${name}" is not a configured policy rule or rules service (configured: ${[...known].join(', ') || 'none'})`, `override.rules[${index}]`, 'known-rule');
  });
}

/** A refused create writes one `policy.denied` event on the service (policy-audit.ts) and nothing else, then throws PolicyDeniedError. */
async function refuseCreate(deps: UseCaseDeps, command: CreateDeploymentCommand, decision: PolicyCheck): Promise<never> {
  const denial = denialOf(decision);
  await recordDenial(deps, { subject: `service/${command.service}`, eventIdPrefix: '', actor: command.actor, denial, decision, details: denialDetails(command) });
  throw denial;
}

function denialDetails(command: CreateDeploymentCommand): Record<string, unknown> {
  return { service: command.service, environment: command.environment ?? null, canary: command.canary.version, baseline: command.baseline?.version ?? null };
}

/** What a create would be answered by the policy rules, writing nothing (`POST /v1/policy/evaluate`): the plan is compiled and checked as a create's is. */
export async function evaluateCreatePolicy(deps: UseCaseDeps, command: CreatePolicyCommand): Promise<PolicyCheck> {
  return judgeCreate(deps, command, compilePlan(deps, command));
}

/** Steps 2-6, for a new creation and a replay alike: each is a no-op when it happened already. */
async function finishCreation(deps: UseCaseDeps, deployment: Deployment, command: CreateDeploymentCommand, replayed: boolean): Promise<CreateDeploymentResult> {
  deps.crashPoints?.reached('create:after-claim');
  // A replay of a creation whose run is over changes nothing (its lock is released, its mark gone).
  const earlier = replayed ? await deps.deployments.get(deployment.id) : undefined;
  if (earlier?.run.released) return { deployment, replayed };
  // Claimed and marked now, not at the first attempt's time: a sweep beside a late retry must not take
  // this creation for a dead one. A deployment that exists holds its slots and is marked already
  // (both came first, and only a released or missing deployment's are removed): a replay of it writes nothing.
  if (!earlier) {
    await claimSlotsOrRefuse(deps, deployment, command, replayed ? undefined : command.idempotencyKey);
    await deps.activeRuns.mark(deployment.id, deps.clock.now().toISOString());
  }
  deps.crashPoints?.reached('create:after-marker');
  const created = await deps.deployments.createIfAbsent(deployment);
  deps.crashPoints?.reached('create:after-deployment');
  // Read back only when it was there already (a replay, a concurrent duplicate): its run may have moved it on.
  const stored = created === 'created' ? deployment : ((await deps.deployments.get(deployment.id)) ?? deployment);
  // Only a run that has not started needs the lock from here; a started one holds it or has ended.
  // A replay whose creation took it already writes nothing (not even a renewal).
  if (stored.version === 1 && !(replayed && (await deps.locks.get(stored.service))?.owner === stored.id)) await lockOrRefuse(deps, stored, command.idempotencyKey);
  deps.crashPoints?.reached('create:after-lock');
  await appendEvent(deps, createdEventOf(deployment), deployment);
  const overridden = overriddenEvent(deployment);
  if (overridden) {
    await appendEvent(deps, overridden, deployment);
    if (!replayed) deps.logger.warn('policy overridden', { deploymentId: deployment.id, service: deployment.service, rules: overridden.details['rules'], reason: overridden.reason, actor: overridden.actor });
  }
  deps.crashPoints?.reached('create:after-event');
  // Starting is idempotent: a replay also starts a run whose first start was lost.
  await deps.workflow.start(stored.id, executionOf(stored));
  deps.logger.info(replayed ? 'deployment create replayed' : 'deployment created', {
    deploymentId: deployment.id,
    service: deployment.service,
    canary: deployment.canary.version,
    actor: command.actor,
  });
  return { deployment, replayed };
}

/**
 * A full cap refuses the creation (403 POLICY_DENIED), recorded as every refusal is (one
 * `policy.denied` event on the service); the key it claimed must not make a retry replay a
 * deployment that never existed.
 */
async function claimSlotsOrRefuse(deps: UseCaseDeps, deployment: Deployment, command: CreateDeploymentCommand, claimedKey: string | undefined): Promise<void> {
  try {
    await claimCapSlots(deps, deployment);
  } catch (error) {
    if (!(error instanceof PolicyDeniedError)) throw error;
    if (claimedKey !== undefined) await deps.idempotency.forget(claimedKey, deployment.id);
    const verdicts = error.denied.map((denied) => ({ ...denied, kind: denied.kind as Verdict['kind'], allowed: false }));
    const inputs = { moment: 'create' as const, principal: command.actor, now: deps.clock.now().toISOString(), step: null, gathered: null };
    await recordDenial(deps, { subject: `service/${deployment.service}`, eventIdPrefix: '', actor: command.actor, denial: error, decision: { allowed: false, verdicts, inputs }, details: denialDetails(command) });
    throw error;
  }
}

/**
 * docs/api.md: one deployment per service at a time; a second gets 409 naming the holder, and what this
 * creation wrote is taken back (the deployment while it is unstarted, its mark, its cap slots, the key's claim).
 */
async function lockOrRefuse(deps: UseCaseDeps, deployment: Deployment, idempotencyKey: string | undefined): Promise<void> {
  try {
    await deps.locks.acquire({ service: deployment.service, owner: deployment.id, now: deps.clock.now(), leaseMs: deps.settings.lockLeaseMs });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // Started meanwhile (the sweeper): it runs, and its prepare ends it, naming the holder.
    if ((await deps.deployments.deleteUnstarted(deployment.id)) === 'started') return;
    await deps.activeRuns.unmark(deployment.id);
    await releaseCapSlots(deps, deployment.id);
    // Refused: the claimed key must not make a retry replay a deployment that never existed.
    if (idempotencyKey !== undefined) await deps.idempotency.forget(idempotencyKey, deployment.id);
    throw error;
  }
}

function canceledFirst(tombstone: IdempotencyTombstone): IdempotencyKeyCanceledError {
  return new IdempotencyKeyCanceledError(tombstone.key, tombstone.canceledBy, tombstone.canceledAt);
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
  const splits = state?.splits ?? [];
  if (splits.length > 0 && splits.every((split) => split.weights[command.canary.version] === 100)) {
    throw new ValidationError(`canary.version ${command.canary.version} already serves 100% of ${command.service}'s traffic in every proxy group: there is nothing to deploy`, 'canary.version', 'not-serving-everything');
  }
}

/**
 * The deployment with its `created` event kept inside it (record-change.ts): whoever reads it next
 * appends the event if a crash lost it, and a replay appends the very event the first attempt made
 * (with the policy verdicts it was judged by, which a replay does not judge again).
 */
function withCreatedEvent(deployment: Deployment, decision: PolicyCheck): Deployment {
  const { subject: _subject, ...recorded } = createdEvent(deployment);
  const details = decision.inputs === null ? recorded.details : { ...recorded.details, policy: policyDetails(decision) };
  return { ...deployment, run: { ...deployment.run, lastChange: { ...recorded, details } } };
}

/** The `created` event kept in a version-1 deployment, or (one stored before events were kept) made again. */
function createdEventOf(deployment: Deployment): AuditEvent {
  const kept = deployment.run.lastChange;
  return kept?.action === 'deployment.created' ? { subject: `deployment/${deployment.id}`, ...kept } : createdEvent(deployment);
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
