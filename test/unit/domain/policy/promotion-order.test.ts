/** Promotion order (shared/domain/policy/promotion-order.ts). */
import { describe, expect, it } from 'vitest';
import { evaluatePromotionOrder } from '../../../../shared/domain/policy/promotion-order.js';
import type { PromotionOrderRule } from '../../../../shared/domain/policy/types.js';
import { policyInput } from '../../../support/policy-inputs.js';

const rule: PromotionOrderRule = { name: 'staging-first', kind: 'promotion-order', services: ['*'], environments: ['*'], after: 'staging' };

describe('evaluatePromotionOrder at create', () => {
  it.each([
    { case: 'SUCCEEDED in staging', environment: 'prod', succeededIn: ['dev', 'staging'], allowed: true, reason: 'checkout 2.0.0 has SUCCEEDED in staging' },
    { case: 'SUCCEEDED only elsewhere', environment: 'prod', succeededIn: ['dev'], allowed: false, reason: 'checkout 2.0.0 has not SUCCEEDED in staging yet' },
    { case: 'SUCCEEDED nowhere', environment: 'prod', succeededIn: [], allowed: false, reason: 'checkout 2.0.0 has not SUCCEEDED in staging yet' },
    { case: 'no environment, nothing succeeded', environment: null, succeededIn: [], allowed: false, reason: 'checkout 2.0.0 has not SUCCEEDED in staging yet' },
    { case: 'deploying to staging itself', environment: 'staging', succeededIn: [], allowed: true, reason: 'this is staging itself' },
  ])('$case → allowed: $allowed', ({ environment, succeededIn, allowed, reason }) => {
    const verdict = evaluatePromotionOrder(rule, policyInput({ deployment: { environment }, succeededIn }));
    expect(verdict).toMatchObject({ rule: 'staging-first', kind: 'promotion-order', allowed, nextAllowedAt: null });
    expect(verdict.reason).toBe(`promotion order "staging-first" (staging first): ${reason}`);
  });

  it.each(['step', 'promote'] as const)('at %s it allows (the order is checked once, at create)', (moment) => {
    expect(evaluatePromotionOrder(rule, policyInput({ moment })).allowed).toBe(true);
  });
});
