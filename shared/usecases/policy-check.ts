/**
 * Judging a deployment by the configured policy rules (docs/policy.md): the create's enforcement,
 * the dry run (`POST /v1/policy/evaluate`), and later the run's steps and promotions.
 *
 * The rules are pure; this gathers what they look at from the stores:
 * - the clouds the deployment touches (its weights and targets) and the proxy groups routing its service;
 * - for each concurrency cap, the deployments holding the slots of its scopes (ports/canary-slots.ts);
 * - the environments where this service's canary version SUCCEEDED: its newest SUCCEEDED
 *   deployments, at most SUCCEEDED_LOOKBACK of them (an old success further back does not count);
 * - the services rolling back: the running deployments (the active-run marks and their
 *   deployments) whose run decided to roll back.
 * When no configured rule applies to the deployment, nothing is read.
 */
import type { CloudName } from '../domain/cloud.js';
import type { Deployment, Step, Target } from '../domain/deployment.js';
import { PolicyDeniedError } from '../domain/errors.js';
import { appliesTo, evaluatePolicy, type PolicyDecision } from '../domain/policy/evaluate.js';
import { capScopes } from '../domain/policy/concurrency-cap.js';
import type { PolicyDeployment, PolicyInput } from '../domain/policy/input.js';
import type { ConcurrencyCapRule, PolicyMoment, PolicyRule } from '../domain/policy/types.js';
import type { UseCaseDeps } from './deps.js';

/** The newest SUCCEEDED deployments of a service read for promotion order (one page). */
export const SUCCEEDED_LOOKBACK = 100;

export type PolicyCheckDeps = Pick<UseCaseDeps, 'policyRules' | 'activeRuns' | 'slots' | 'deployments' | 'registry' | 'clusters' | 'clock'>;

/** The deployment judged: a would-be one (no id) or a stored one (its id: it is not counted among the running). */
export interface PolicySubject {
  id?: string;
  service: string;
  environment: string | null;
  canaryVersion: string;
  steps: readonly Step[];
  createdBy: string;
  targets: readonly Target[];
  weights?: Deployment['weights'];
}

export interface PolicyAsk {
  moment: PolicyMoment;
  /** Who asks: the creator at create, the promoter at promote. */
  principal: string;
}

export async function checkPolicy(deps: PolicyCheckDeps, subject: PolicySubject, ask: PolicyAsk): Promise<PolicyDecision> {
  if (!deps.policyRules.some((rule) => appliesTo(rule, subject.service, subject.environment))) return { allowed: true, verdicts: [] };
  return evaluatePolicy(deps.policyRules, await policyInputFor(deps, subject, ask));
}

export async function policyInputFor(deps: PolicyCheckDeps, subject: PolicySubject, ask: PolicyAsk): Promise<PolicyInput> {
  const [others, succeededIn, deployment] = await Promise.all([runningDeployments(deps, subject.id), environmentsSucceeded(deps, subject), policyDeploymentOf(deps, subject)]);
  return {
    deployment,
    moment: ask.moment,
    principal: ask.principal,
    now: deps.clock.now(),
    // Caps judge a start only: at a step or a promotion their slots are not read.
    capHolders: ask.moment === 'create' ? await capHoldersOf(deps, deployment, subject.id) : {},
    succeededIn,
    rollingBack: [...new Set(others.filter(isRollingBack).map((d) => d.service))],
  };
}

/** The subject as the rules see it: the clouds and proxy groups it touches. */
export async function policyDeploymentOf(deps: PolicyCheckDeps, subject: PolicySubject): Promise<PolicyDeployment> {
  return {
    service: subject.service,
    environment: subject.environment,
    canaryVersion: subject.canaryVersion,
    steps: subject.steps,
    createdBy: subject.createdBy,
    // No targets: every configured cluster's cloud (prepare resolves the targets from the registrations).
    clouds: cloudsOf(subject.targets.length > 0 ? subject.targets : deps.clusters, subject.weights),
    proxyGroups: await proxyGroupsOf(deps, subject.service),
  };
}

/** The holders of every cap scope the deployment would join (ports/canary-slots.ts), but `except`. */
async function capHoldersOf(deps: PolicyCheckDeps, deployment: PolicyDeployment, except: string | undefined): Promise<Record<string, string[]>> {
  const scopes = capRulesFor(deps.policyRules, deployment).flatMap((rule) => capScopes(rule, deployment));
  const held = await Promise.all(scopes.map(async (scope) => [scope.key, (await deps.slots.holders(scope.key)).map((h) => h.holder).filter((id) => id !== except)] as const));
  return Object.fromEntries(held);
}

/** The concurrency caps that apply to a deployment. */
export function capRulesFor(rules: readonly PolicyRule[], deployment: Pick<PolicyDeployment, 'service' | 'environment'>): ConcurrencyCapRule[] {
  return rules.filter((rule): rule is ConcurrencyCapRule => rule.kind === 'concurrency-cap' && appliesTo(rule, deployment.service, deployment.environment));
}

/** The deployments whose run has not ended, but `except`; marks whose deployment is gone or released are not runs. */
async function runningDeployments(deps: PolicyCheckDeps, except: string | undefined): Promise<Deployment[]> {
  const marks = (await deps.activeRuns.list()).filter((mark) => mark.deploymentId !== except);
  const found = await Promise.all(marks.map((mark) => deps.deployments.get(mark.deploymentId)));
  return found.filter((d): d is Deployment => d !== undefined && !d.run.released);
}

async function environmentsSucceeded(deps: PolicyCheckDeps, subject: PolicySubject): Promise<string[]> {
  const page = await deps.deployments.list({ service: subject.service, status: 'SUCCEEDED', limit: SUCCEEDED_LOOKBACK });
  const environments = page.items.filter((d) => d.canary.version === subject.canaryVersion && d.environment).map((d) => d.environment!);
  return [...new Set(environments)];
}

function isRollingBack(d: Deployment): boolean {
  return d.phase === 'ROLLING_BACK' || d.run.outcome?.kind === 'rollback';
}

/** The clouds of the targets and of the weights a run has set (the status document's `weights` keys). */
function cloudsOf(targets: readonly { cloud: CloudName }[], weights: Deployment['weights'] = {}): CloudName[] {
  return [...new Set([...targets.map((t) => t.cloud), ...(Object.keys(weights) as CloudName[])])];
}

/** The proxy groups routing a service (its splits in the registry). */
async function proxyGroupsOf(deps: PolicyCheckDeps, service: string): Promise<string[]> {
  const state = await deps.registry.getService(service);
  return [...new Set(state?.splits.map((split) => split.proxyGroup) ?? [])];
}

/** A stored deployment as the rules judge it. */
export function subjectOf(d: Deployment): PolicySubject {
  return { id: d.id, service: d.service, environment: d.environment ?? null, canaryVersion: d.canary.version, steps: d.steps, createdBy: d.createdBy, targets: d.targets, weights: d.weights };
}

/** The refusing verdicts of a decision, as PolicyDeniedError carries them (403 POLICY_DENIED). */
export function denialOf(decision: PolicyDecision): PolicyDeniedError {
  return new PolicyDeniedError(decision.verdicts.filter((v) => !v.allowed).map(({ rule, kind, reason, nextAllowedAt }) => ({ rule, kind, reason, nextAllowedAt })));
}

/** The rules judged when `principal` promotes `d` past a gate (four eyes): refuses with PolicyDeniedError. */
export async function requirePromotionAllowed(deps: PolicyCheckDeps, d: Deployment, principal: string): Promise<void> {
  const decision = await checkPolicy(deps, subjectOf(d), { moment: 'promote', principal });
  if (!decision.allowed) throw denialOf(decision);
}
