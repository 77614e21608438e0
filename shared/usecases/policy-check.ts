/**
 * Judging a deployment by the configured policy rules (docs/policy.md): the create's enforcement,
 * the dry run (`POST /v1/policy/evaluate`), and later the run's steps and promotions.
 *
 * The rules are pure; this gathers what they look at from the stores:
 * - the clouds the deployment touches (its weights and targets) and the proxy groups routing its service;
 * - for each concurrency cap, the deployments holding the slots of its scopes (ports/canary-slots.ts);
 * - for promotion order, the environments where this service's canary version SUCCEEDED: its
 *   newest SUCCEEDED deployments, at most SUCCEEDED_LOOKBACK of them (an old success further back
 *   does not count);
 * - for dependency health, which dependencies (the service's declaration in the registry, else the
 *   rules' `dependsOn`) are rolling back: each one's RUNNING
 *   deployments, whose run decided to roll back.
 * Each is read only when a rule that looks at it applies, so a create costs the same however many
 * canaries run; when no configured rule applies to the deployment, nothing is read.
 *
 * Beside the rules, every external rules service whose scope matches is asked, in parallel, and
 * answers one verdict each (domain/policy/external.ts). Rules an admin overrode at create (break
 * glass, the deployment's `policyOverride`) keep their refusals, marked overridden, and no longer block.
 */
import type { CloudName } from '../domain/cloud.js';
import type { Deployment, Step, Target } from '../domain/deployment.js';
import { PolicyDeniedError } from '../domain/errors.js';
import { appliesTo, evaluatePolicy, type PolicyDecision } from '../domain/policy/evaluate.js';
import { capScopes } from '../domain/policy/concurrency-cap.js';
import { externalVerdict, stepOfRequest, type RulesOutcome, type RulesRequest } from '../domain/policy/external.js';
import { summarizeStep } from '../domain/plan-summary.js';
import type { PolicyDeployment, PolicyInput } from '../domain/policy/input.js';
import type { ConcurrencyCapRule, PolicyMoment, PolicyRule, Verdict } from '../domain/policy/types.js';
import type { ConfiguredRulesService } from '../ports/external-rules.js';
import type { UseCaseDeps } from './deps.js';
import { recordDenial } from './policy-audit.js';

/** The newest SUCCEEDED deployments of a service read for promotion order (one page). */
export const SUCCEEDED_LOOKBACK = 100;
/** The RUNNING deployments of a dependency read for dependency health (one page; the service lock allows one at a time). */
const RUNNING_LOOKBACK = 10;

export type PolicyCheckDeps = Pick<UseCaseDeps, 'policyRules' | 'rulesServices' | 'slots' | 'deployments' | 'registry' | 'clusters' | 'clock'>;

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
  /** Told to the external rules services; null or absent: none named (prepare resolves it). */
  baselineVersion?: string | null;
  /** Rules and endpoints whose refusals an admin overrode at create (break glass). */
  overriddenRules?: readonly string[];
}

export interface PolicyAsk {
  moment: PolicyMoment;
  /** Who asks: the creator at create, the promoter at promote. */
  principal: string;
  /** The index in the plan of the step about to run (moments `step` and `promote`): the external rules services are told it. */
  step?: number;
}

/** What the rules looked at, kept in the audit trail beside the verdicts. */
export interface PolicyInputs {
  moment: PolicyMoment;
  principal: string;
  now: string;
  step: number | null;
  /** Gathered only when a configured rule (not only an external service) applies. */
  gathered: {
    clouds: readonly string[];
    proxyGroups: readonly string[];
    /** Per cap scope, the deployments holding its slots (create only). */
    capHolders: Readonly<Record<string, readonly string[]>>;
    succeededIn: readonly string[];
    rollingBack: readonly string[];
  } | null;
}

export interface PolicyCheck extends PolicyDecision {
  /** null when nothing applied to the deployment (nothing was read or asked). */
  inputs: PolicyInputs | null;
}

export async function checkPolicy(deps: PolicyCheckDeps, subject: PolicySubject, ask: PolicyAsk): Promise<PolicyCheck> {
  const rulesApply = deps.policyRules.some((rule) => appliesTo(rule, subject.service, subject.environment));
  const services = deps.rulesServices.filter(({ endpoint }) => appliesTo(endpoint, subject.service, subject.environment));
  if (!rulesApply && services.length === 0) return { allowed: true, verdicts: [], inputs: null };
  const [input, external] = await Promise.all([rulesApply ? policyInputFor(deps, subject, ask) : undefined, askRulesServices(services, subject, ask)]);
  const local = input ? evaluatePolicy(deps.policyRules, input).verdicts : [];
  const verdicts = markOverridden([...local, ...external], subject.overriddenRules ?? []);
  return { allowed: verdicts.every((v) => v.allowed || v.overridden === true), verdicts, inputs: inputsOf(ask, input, deps.clock.now()) };
}

/** Every applicable rules service asked at once; each answers one verdict, whatever happens to the call. */
function askRulesServices(services: readonly ConfiguredRulesService[], subject: PolicySubject, ask: PolicyAsk): Promise<Verdict[]> {
  if (services.length === 0) return Promise.resolve([]);
  const request = rulesRequestOf(subject, ask);
  return Promise.all(
    services.map(({ endpoint, service }) =>
      service.ask(request).then(
        (answer): RulesOutcome => ({ kind: 'answered', answer }),
        (error: unknown): RulesOutcome => ({ kind: 'failed', why: error instanceof Error ? error.message : String(error) }),
      ).then((outcome) => externalVerdict(endpoint, outcome)),
    ),
  );
}

export function rulesRequestOf(subject: PolicySubject, ask: PolicyAsk): RulesRequest {
  return {
    moment: ask.moment,
    deployment: {
      ...(subject.id !== undefined ? { id: subject.id } : {}),
      service: subject.service,
      environment: subject.environment,
      canary: subject.canaryVersion,
      baseline: subject.baselineVersion ?? null,
      createdBy: subject.createdBy,
      principal: ask.principal,
    },
    plan: subject.steps.map(summarizeStep),
    step: stepOfRequest(subject.steps, ask.step),
  };
}

/** The refusals of overridden rules stay refusals, marked: the audit shows what was overridden. */
function markOverridden(verdicts: Verdict[], overridden: readonly string[]): Verdict[] {
  return verdicts.map((v) => (!v.allowed && overridden.includes(v.rule) ? { ...v, overridden: true } : v));
}

function inputsOf(ask: PolicyAsk, input: PolicyInput | undefined, now: Date): PolicyInputs {
  const gathered = input
    ? { clouds: input.deployment.clouds, proxyGroups: input.deployment.proxyGroups, capHolders: input.capHolders, succeededIn: input.succeededIn, rollingBack: input.rollingBack }
    : null;
  return { moment: ask.moment, principal: ask.principal, now: (input?.now ?? now).toISOString(), step: ask.step ?? null, gathered };
}

export async function policyInputFor(deps: PolicyCheckDeps, subject: PolicySubject, ask: PolicyAsk): Promise<PolicyInput> {
  // Each input is read only when a rule that looks at it applies, and only as far as it looks:
  // a create's cost must not grow with every canary running (bench/policy).
  const applicable = deps.policyRules.filter((rule) => appliesTo(rule, subject.service, subject.environment));
  const health = applicable.flatMap((rule) => (rule.kind === 'dependency-health' ? [rule] : []));
  const declared = health.length > 0 ? (await deps.registry.getDependencies(subject.service))?.dependencies : undefined;
  const dependencies = declared ?? [...new Set(health.flatMap((rule) => rule.dependsOn))];
  const promotionOrder = applicable.some((rule) => rule.kind === 'promotion-order');
  const [rollingBack, succeededIn, deployment] = await Promise.all([
    servicesRollingBack(deps, dependencies, subject.id),
    promotionOrder ? environmentsSucceeded(deps, subject) : Promise.resolve([]),
    policyDeploymentOf(deps, subject),
  ]);
  return {
    deployment,
    moment: ask.moment,
    principal: ask.principal,
    now: deps.clock.now(),
    // Caps judge a start only: at a step or a promotion their slots are not read.
    capHolders: ask.moment === 'create' ? await capHoldersOf(deps, deployment, subject.id) : {},
    succeededIn,
    rollingBack,
    ...(declared !== undefined ? { declaredDependencies: declared } : {}),
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

/** Which of `services` have a running deployment (but `except`) that is rolling back: one page of each one's RUNNING deployments (a service runs one at a time). */
async function servicesRollingBack(deps: PolicyCheckDeps, services: readonly string[], except: string | undefined): Promise<string[]> {
  const running = await Promise.all(services.map((service) => deps.deployments.list({ service, status: 'RUNNING', limit: RUNNING_LOOKBACK })));
  return services.filter((_service, index) => running[index]!.items.some((d) => d.id !== except && !d.run.released && isRollingBack(d)));
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

/** The refusing verdicts of a decision that still block (not overridden), as PolicyDeniedError carries them (403 POLICY_DENIED). */
export function denialOf(decision: PolicyDecision): PolicyDeniedError {
  return new PolicyDeniedError(decision.verdicts.filter((v) => !v.allowed && v.overridden !== true).map(({ rule, kind, reason, nextAllowedAt }) => ({ rule, kind, reason, nextAllowedAt })));
}

/** A stored deployment as the rules judge it (at a step, at promote), with the rules overridden at its create. */
export function policySubjectOf(d: Deployment): PolicySubject {
  return {
    id: d.id,
    service: d.service,
    environment: d.environment ?? null,
    canaryVersion: d.canary.version,
    steps: d.steps,
    createdBy: d.createdBy,
    targets: d.targets,
    weights: d.weights,
    baselineVersion: d.baseline?.version ?? null,
    ...(d.policyOverride ? { overriddenRules: d.policyOverride.rules } : {}),
  };
}

/**
 * The rules judged when `principal` promotes `d` past a gate (four eyes, the rules services):
 * a refusal is recorded as a `policy.denied` event on the deployment, which is left as it is, and
 * thrown as PolicyDeniedError.
 */
export async function requirePromotionAllowed(deps: PolicyCheckDeps & Pick<UseCaseDeps, 'audit' | 'ids'>, d: Deployment, principal: string): Promise<void> {
  const decision = await checkPolicy(deps, policySubjectOf(d), { moment: 'promote', principal, step: d.stepIndex });
  if (decision.allowed) return;
  const denial = denialOf(decision);
  await recordDenial(deps, { subject: `deployment/${d.id}`, eventIdPrefix: `v${String(d.version).padStart(6, '0')}.`, actor: principal, denial, decision, details: { deploymentId: d.id, service: d.service, environment: d.environment ?? null, canary: d.canary.version } });
  throw denial;
}
