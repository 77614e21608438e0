/**
 * Evaluating every rule that applies to a deployment (docs/policy.md). A rule applies when one of
 * its service globs matches the service and one of its environment globs matches the environment;
 * a deployment without an environment matches only `*`. The answer allows when every verdict does.
 */
import { globMatches } from '../scopes.js';
import { evaluateConcurrencyCap } from './concurrency-cap.js';
import { evaluateDependencyHealth } from './dependency-health.js';
import { evaluateDeployWindow } from './deploy-window.js';
import { evaluateFourEyes } from './four-eyes.js';
import { evaluateFreezeWindow } from './freeze-window.js';
import type { PolicyInput } from './input.js';
import { evaluatePromotionOrder } from './promotion-order.js';
import { evaluateRequiredAnalysis } from './required-analysis.js';
import type { PolicyRule, RuleScope, Verdict } from './types.js';
import { notThisMoment } from './verdict.js';

const CALENDAR_MOMENTS = 'create and before every traffic step';

export interface PolicyDecision {
  allowed: boolean;
  /** One per applicable rule, in the configured order. */
  verdicts: Verdict[];
}

export function evaluatePolicy(rules: readonly PolicyRule[], input: PolicyInput): PolicyDecision {
  const { service, environment } = input.deployment;
  const verdicts = rules.filter((rule) => appliesTo(rule, service, environment)).map((rule) => evaluateRule(rule, input));
  return { allowed: verdicts.every((verdict) => verdict.allowed), verdicts };
}

export function appliesTo(scope: RuleScope, service: string, environment: string | null): boolean {
  const environmentMatches = environment === null ? scope.environments.includes('*') : scope.environments.some((glob) => globMatches(glob, environment));
  return environmentMatches && scope.services.some((glob) => globMatches(glob, service));
}

function evaluateRule(rule: PolicyRule, input: PolicyInput): Verdict {
  switch (rule.kind) {
    // Calendar rules judge moves of traffic (a create, each traffic step): an operator's promotion
    // past a gate moves none itself, and the step after it is held while the calendar refuses.
    case 'freeze-window':
      return input.moment === 'promote' ? notThisMoment(rule, CALENDAR_MOMENTS, input.moment) : evaluateFreezeWindow(rule, input.now);
    case 'deploy-window':
      return input.moment === 'promote' ? notThisMoment(rule, CALENDAR_MOMENTS, input.moment) : evaluateDeployWindow(rule, input.now);
    case 'concurrency-cap':
      return evaluateConcurrencyCap(rule, input);
    case 'required-analysis':
      return evaluateRequiredAnalysis(rule, input);
    case 'promotion-order':
      return evaluatePromotionOrder(rule, input);
    case 'four-eyes':
      return evaluateFourEyes(rule, input);
    case 'dependency-health':
      return evaluateDependencyHealth(rule, input);
  }
}
