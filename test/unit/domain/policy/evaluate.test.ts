/** The evaluator (shared/domain/policy/evaluate.ts): which rules apply, and the overall answer. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../shared/domain/config.js';
import { appliesTo, evaluatePolicy } from '../../../../shared/domain/policy/evaluate.js';
import type { PolicyRule } from '../../../../shared/domain/policy/types.js';
import { policyInput, weight } from '../../../support/policy-inputs.js';

describe('appliesTo', () => {
  it.each([
    { services: ['*'], environments: ['*'], service: 'checkout', environment: 'prod', applies: true },
    { services: ['checkout'], environments: ['prod'], service: 'checkout', environment: 'prod', applies: true },
    { services: ['check*'], environments: ['prod-*'], service: 'checkout', environment: 'prod-eu', applies: true },
    { services: ['check*'], environments: ['prod-*'], service: 'checkout', environment: 'prod', applies: false },
    { services: ['cart', '*-api'], environments: ['*'], service: 'search-api', environment: 'dev', applies: true },
    { services: ['cart', '*-api'], environments: ['*'], service: 'checkout', environment: 'dev', applies: false },
    { services: ['*'], environments: ['staging', 'prod'], service: 'checkout', environment: 'prod', applies: true },
    { services: ['*'], environments: ['staging'], service: 'checkout', environment: 'prod', applies: false },
    { services: ['*'], environments: ['*'], service: 'checkout', environment: null, applies: true },
    { services: ['*'], environments: ['staging', '*'], service: 'checkout', environment: null, applies: true },
    { services: ['*'], environments: ['prod'], service: 'checkout', environment: null, applies: false },
    { services: ['*'], environments: ['p*'], service: 'checkout', environment: null, applies: false },
  ])('services $services, environments $environments ↔ $service in $environment: $applies', ({ services, environments, service, environment, applies }) => {
    expect(appliesTo({ services, environments }, service, environment)).toBe(applies);
  });
});

const rules: PolicyRule[] = [
  { name: 'prod-analysis', kind: 'required-analysis', services: ['*'], environments: ['prod'], minJudgments: 3 },
  { name: 'staging-first', kind: 'promotion-order', services: ['*'], environments: ['prod'], after: 'staging' },
  { name: 'cart-only-cap', kind: 'concurrency-cap', services: ['cart'], environments: ['*'], max: 1, per: 'global' },
  { name: 'two-people', kind: 'four-eyes', services: ['*'], environments: ['*'] },
  { name: 'deps', kind: 'dependency-health', services: ['checkout'], environments: ['*'], dependsOn: ['auth'] },
];

describe('evaluatePolicy', () => {
  it('evaluates only the rules whose scope matches, in the configured order, and allows when all allow', () => {
    const decision = evaluatePolicy(rules, policyInput({ succeededIn: ['staging'] }));
    expect(decision.verdicts.map((v) => [v.rule, v.allowed])).toEqual([
      ['prod-analysis', true],
      ['staging-first', true],
      ['two-people', true],
      ['deps', true],
    ]);
    expect(decision.allowed).toBe(true);
  });

  it('refuses when any applicable rule refuses, naming every refusing rule', () => {
    const decision = evaluatePolicy(rules, policyInput({ deployment: { steps: [weight(100)] }, rollingBack: ['auth'] }));
    expect(decision.allowed).toBe(false);
    expect(decision.verdicts.filter((v) => !v.allowed).map((v) => v.rule)).toEqual(['prod-analysis', 'staging-first', 'deps']);
  });

  it('a refusing rule scoped elsewhere does not count', () => {
    const decision = evaluatePolicy(rules, policyInput({ deployment: { environment: 'dev', steps: [weight(100)] } }));
    expect(decision.verdicts.map((v) => v.rule)).toEqual(['two-people', 'deps']);
    expect(decision.allowed).toBe(true);
  });

  it('a deployment without an environment meets only the rules scoped to every environment', () => {
    const decision = evaluatePolicy(rules, policyInput({ deployment: { environment: null, steps: [weight(100)] } }));
    expect(decision.verdicts.map((v) => v.rule)).toEqual(['two-people', 'deps']);
  });

  it('no rules: allowed, with no verdicts', () => {
    expect(evaluatePolicy([], policyInput())).toEqual({ allowed: true, verdicts: [] });
  });

  it('the moment decides what is judged: four eyes refuses the creator only at promote', () => {
    const input = { succeededIn: ['staging'], principal: 'alice', deployment: { createdBy: 'alice' } };
    expect(evaluatePolicy(rules, policyInput({ ...input, moment: 'step' })).allowed).toBe(true);
    const promote = evaluatePolicy(rules, policyInput({ ...input, moment: 'promote' }));
    expect(promote.allowed).toBe(false);
    expect(promote.verdicts.filter((v) => !v.allowed).map((v) => v.rule)).toEqual(['two-people']);
  });

  it('calendar rules judge creates and traffic steps, not an operator’s promotion past a gate (it moves no traffic itself)', () => {
    const frozen: PolicyRule[] = [
      { name: 'always-frozen', kind: 'freeze-window', services: ['*'], environments: ['*'], timeZone: 'UTC', once: { start: '2000-01-01T00:00', end: '2100-01-01T00:00' } },
      { name: 'never-open', kind: 'deploy-window', services: ['*'], environments: ['*'], timeZone: 'UTC', days: ['Mon'], from: '00:00', to: '00:01' },
    ];
    const now = new Date('2026-12-24T12:00:00Z');
    expect(evaluatePolicy(frozen, policyInput({ now, moment: 'create' })).verdicts.map((v) => v.allowed)).toEqual([false, false]);
    expect(evaluatePolicy(frozen, policyInput({ now, moment: 'step' })).verdicts.map((v) => v.allowed)).toEqual([false, false]);
    const promote = evaluatePolicy(frozen, policyInput({ now, moment: 'promote' }));
    expect(promote.allowed).toBe(true);
    expect(promote.verdicts.map((v) => v.reason)).toEqual([expect.stringContaining('is checked at create and before every traffic step, not at promote'), expect.stringContaining('not at promote')]);
  });

  it('calendar rules are handed to their evaluators when they apply, and skipped when they do not', () => {
    const calendar: PolicyRule[] = [
      { name: 'weekend', kind: 'freeze-window', services: ['*'], environments: ['*'], timeZone: 'UTC', weekly: { from: { day: 'Fri', time: '16:00' }, to: { day: 'Mon', time: '08:00' } } },
      { name: 'hours', kind: 'deploy-window', services: ['*'], environments: ['*'], timeZone: 'UTC', days: ['Mon'], from: '09:00', to: '17:00' },
      { name: 'cart-freeze', kind: 'freeze-window', services: ['cart'], environments: ['*'], timeZone: 'UTC', once: { start: '2026-06-01T00:00', end: '2026-07-01T00:00' } },
    ];
    const decision = evaluatePolicy(calendar, policyInput());
    expect(decision.verdicts.map((v) => [v.rule, v.kind])).toEqual([
      ['weekend', 'freeze-window'],
      ['hours', 'deploy-window'],
    ]);
  });

  it('evaluates the rules crossfade.yaml declares, as parsed', () => {
    const config = parseConfig({ policy: { rules: [{ name: 'cap', kind: 'concurrency-cap', max: 1 }] } }, 'crossfade.yaml');
    const decision = evaluatePolicy(config.policy.rules, policyInput({ capHolders: { 'cap#global': ['dep_cart'] } }));
    expect(decision).toEqual({
      allowed: false,
      verdicts: [{ rule: 'cap', kind: 'concurrency-cap', allowed: false, reason: 'concurrency cap "cap" (at most 1 canary at once): 1 already running (dep_cart)', nextAllowedAt: null }],
    });
  });
});
