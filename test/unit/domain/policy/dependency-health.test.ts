/** Dependency health (shared/domain/policy/dependency-health.ts). */
import { describe, expect, it } from 'vitest';
import { evaluateDependencyHealth } from '../../../../shared/domain/policy/dependency-health.js';
import type { DependencyHealthRule } from '../../../../shared/domain/policy/types.js';
import { policyInput } from '../../../support/policy-inputs.js';

const rule: DependencyHealthRule = { name: 'deps', kind: 'dependency-health', services: ['checkout'], environments: ['*'], dependsOn: ['auth', 'inventory'] };

describe('evaluateDependencyHealth at create', () => {
  it.each([
    { case: 'nothing rolling back', rollingBack: [], allowed: true, reason: 'none is rolling back' },
    { case: 'an unrelated service rolling back', rollingBack: ['search'], allowed: true, reason: 'none is rolling back' },
    { case: 'one dependency rolling back', rollingBack: ['search', 'auth'], allowed: false, reason: 'auth is rolling back' },
    { case: 'both dependencies rolling back', rollingBack: ['inventory', 'auth'], allowed: false, reason: 'auth, inventory are rolling back' },
  ])('$case → allowed: $allowed', ({ rollingBack, allowed, reason }) => {
    const verdict = evaluateDependencyHealth(rule, policyInput({ rollingBack }));
    expect(verdict).toMatchObject({ rule: 'deps', kind: 'dependency-health', allowed, nextAllowedAt: null });
    expect(verdict.reason).toBe(`dependency health "deps" (depends on auth, inventory): ${reason}`);
  });

  it('checks the services the service declared instead of the rule\'s, when it declared any', () => {
    const verdict = evaluateDependencyHealth(rule, policyInput({ rollingBack: ['auth', 'payments'], declaredDependencies: ['payments'] }));
    expect(verdict).toMatchObject({ allowed: false, reason: 'dependency health "deps" (depends on payments, as declared): payments is rolling back' });
    expect(evaluateDependencyHealth(rule, policyInput({ rollingBack: ['auth'], declaredDependencies: [] }))).toMatchObject({ allowed: true, reason: 'dependency health "deps" (depends on nothing, as declared): none is rolling back' });
  });

  it.each(['step', 'promote'] as const)('at %s a run already under way is not held by it', (moment) => {
    expect(evaluateDependencyHealth(rule, policyInput({ moment, rollingBack: ['auth'] })).allowed).toBe(true);
  });
});
