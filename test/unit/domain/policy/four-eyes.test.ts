/** Four eyes (shared/domain/policy/four-eyes.ts): only promotion is judged. */
import { describe, expect, it } from 'vitest';
import { evaluateFourEyes } from '../../../../shared/domain/policy/four-eyes.js';
import type { FourEyesRule } from '../../../../shared/domain/policy/types.js';
import { policyInput } from '../../../support/policy-inputs.js';

const rule: FourEyesRule = { name: 'two-people', kind: 'four-eyes', services: ['*'], environments: ['*'] };

describe('evaluateFourEyes', () => {
  it.each([
    { moment: 'promote', principal: 'alice', allowed: false, reason: 'alice created this deployment' },
    { moment: 'promote', principal: 'bob', allowed: true, reason: 'bob promotes what alice created' },
    { moment: 'create', principal: 'alice', allowed: true, reason: 'checked at promote, not at create' },
    { moment: 'step', principal: 'alice', allowed: true, reason: 'checked at promote, not at step' },
  ] as const)('$principal at $moment (created by alice) → allowed: $allowed', ({ moment, principal, allowed, reason }) => {
    const verdict = evaluateFourEyes(rule, policyInput({ moment, principal, deployment: { createdBy: 'alice' } }));
    expect(verdict).toMatchObject({ rule: 'two-people', kind: 'four-eyes', allowed, nextAllowedAt: null });
    expect(verdict.reason).toContain(reason);
  });
});
