/**
 * External rules services (docs/policy.md "External rules service"): a company's own HTTPS
 * endpoint, asked at every moment (create, step, promote) whether a deployment may proceed. This
 * is the pure half: what an endpoint is configured with, what it is sent, and how its answer — or
 * its failure to give one — becomes a verdict. The call itself is adapters/rules-service/.
 */
import type { Step } from '../deployment.js';
import type { PlanStepSummary } from '../plan-summary.js';
import type { PolicyMoment, RuleScope, Verdict } from './types.js';

export const DEFAULT_EXTERNAL_TIMEOUT_MS = 2000;
export const MAX_EXTERNAL_TIMEOUT_MS = 10_000;

/** Where an endpoint's signing secret comes from: an environment variable read at start, or a Secrets Manager secret (ARN or name) read once per cold start. */
export type SecretReference = { env: string } | { awsSecretsManager: string };

export interface ExternalRulesEndpoint extends RuleScope {
  /** The verdict's `rule`; unique among the rules and endpoints (an override names it). */
  name: string;
  url: string;
  secret: SecretReference;
  timeoutMs: number;
  /** An error, timeout or unusable answer allows (saying so) instead of refusing. */
  failOpen: boolean;
}


/** The JSON body POSTed to an endpoint (the protocol of docs/policy.md). */
export interface RulesRequest {
  moment: PolicyMoment;
  deployment: {
    /** Absent at create: the deployment does not exist yet. */
    id?: string;
    service: string;
    environment: string | null;
    canary: string;
    baseline: string | null;
    createdBy: string;
    /** Who asks now: the creator at create, the promoter at promote. */
    principal: string;
  };
  plan: PlanStepSummary[];
  /** The step about to run (moment `step`, `promote`); null at create. */
  step: ({ index: number } & Pick<PlanStepSummary, 'kind'> & { canaryPercent?: number }) | null;
}

/** What an endpoint answers, validated (adapters/rules-service/answer.ts). */
export interface RulesAnswer {
  allow: boolean;
  reasons: string[];
}

/** How an ask ended: an answer, or why there was none usable (a sentence: "no answer within 2000 ms"). */
export type RulesOutcome = { kind: 'answered'; answer: RulesAnswer } | { kind: 'failed'; why: string };

/** The `step` of a request: the plan's step at `index`, or null when there is none (at create, or past the plan's end). */
export function stepOfRequest(steps: readonly Step[], index: number | undefined): RulesRequest['step'] {
  const step = index === undefined ? undefined : steps[index];
  if (index === undefined || step === undefined) return null;
  return step.kind === 'setWeight' ? { index, kind: step.kind, canaryPercent: step.canaryPercent } : { index, kind: step.kind };
}

/** The verdict of one endpoint: its answer, or — when it gave none usable — a refusal (fail-closed) or an allowance (fail-open) saying why. */
export function externalVerdict(endpoint: Pick<ExternalRulesEndpoint, 'name' | 'failOpen'>, outcome: RulesOutcome): Verdict {
  const verdict = (allowed: boolean, reason: string): Verdict => ({ rule: endpoint.name, kind: 'external', allowed, reason, nextAllowedAt: null });
  if (outcome.kind === 'answered') {
    const { allow, reasons } = outcome.answer;
    const said = reasons.join('; ');
    return verdict(allow, said || `rules service "${endpoint.name}" ${allow ? 'allows' : 'refuses'} (no reason given)`);
  }
  return endpoint.failOpen
    ? verdict(true, `rules service "${endpoint.name}" gave no usable answer (${outcome.why}); allowed because it is configured fail-open`)
    : verdict(false, `rules service "${endpoint.name}" gave no usable answer (${outcome.why}); refused because it is fail-closed`);
}
