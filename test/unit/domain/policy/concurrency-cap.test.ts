/** Concurrency caps (shared/domain/policy/concurrency-cap.ts): the deployment asked about counts as one more, among the holders of each scope it joins. */
import { describe, expect, it } from 'vitest';
import { capScopes, evaluateConcurrencyCap } from '../../../../shared/domain/policy/concurrency-cap.js';
import type { ConcurrencyCapRule } from '../../../../shared/domain/policy/types.js';
import { policyInput } from '../../../support/policy-inputs.js';

const cap = (max: number, per: ConcurrencyCapRule['per']): ConcurrencyCapRule => ({ name: 'cap', kind: 'concurrency-cap', services: ['*'], environments: ['*'], max, per });

describe('capScopes', () => {
  it('one per rule, or one per cloud / proxy group the deployment touches, keyed by the rule', () => {
    const deployment = { clouds: ['aws', 'gcp'] as const, proxyGroups: ['envoy-aws-use1'] };
    expect(capScopes(cap(1, 'global'), deployment)).toEqual([{ key: 'cap#global', label: '' }]);
    expect(capScopes(cap(1, 'cloud'), deployment)).toEqual([
      { key: 'cap#cloud:aws', label: ' in cloud aws' },
      { key: 'cap#cloud:gcp', label: ' in cloud gcp' },
    ]);
    expect(capScopes(cap(1, 'proxy-group'), deployment)).toEqual([{ key: 'cap#group:envoy-aws-use1', label: ' in proxy group envoy-aws-use1' }]);
  });
});

interface Case {
  case: string;
  rule: ConcurrencyCapRule;
  capHolders: Record<string, string[]>;
  allowed: boolean;
}

describe('evaluateConcurrencyCap at create (the deployment: aws, envoy-aws-use1)', () => {
  it.each<Case>([
    { case: 'global: nothing held, cap 1', rule: cap(1, 'global'), capHolders: {}, allowed: true },
    { case: 'global: 2 held, cap 3 (this one is the third)', rule: cap(3, 'global'), capHolders: { 'cap#global': ['a', 'b'] }, allowed: true },
    { case: 'global: 3 held, cap 3', rule: cap(3, 'global'), capHolders: { 'cap#global': ['a', 'b', 'c'] }, allowed: false },
    { case: 'cloud: 2 on gcp, cap 1 (none on aws)', rule: cap(1, 'cloud'), capHolders: { 'cap#cloud:gcp': ['a', 'b'] }, allowed: true },
    { case: 'cloud: 1 on aws, cap 1', rule: cap(1, 'cloud'), capHolders: { 'cap#cloud:gcp': ['a'], 'cap#cloud:aws': ['b'] }, allowed: false },
    { case: 'proxy-group: 2 in the gcp group, cap 1', rule: cap(1, 'proxy-group'), capHolders: { 'cap#group:envoy-gcp-usc1': ['a', 'b'] }, allowed: true },
    { case: 'proxy-group: 1 in envoy-aws-use1, cap 2', rule: cap(2, 'proxy-group'), capHolders: { 'cap#group:envoy-aws-use1': ['a'] }, allowed: true },
    { case: 'proxy-group: 2 in envoy-aws-use1, cap 2', rule: cap(2, 'proxy-group'), capHolders: { 'cap#group:envoy-aws-use1': ['a', 'b'] }, allowed: false },
    { case: 'another rule’s holders do not count', rule: cap(1, 'global'), capHolders: { 'other#global': ['a'] }, allowed: true },
  ])('$case → allowed: $allowed', ({ rule, capHolders, allowed }) => {
    const verdict = evaluateConcurrencyCap(rule, policyInput({ capHolders }));
    expect(verdict.allowed).toBe(allowed);
    expect(verdict).toMatchObject({ rule: 'cap', kind: 'concurrency-cap', nextAllowedAt: null });
  });

  it('a refusal names the cap, the scope and the deployments holding its slots', () => {
    const global = evaluateConcurrencyCap(cap(2, 'global'), policyInput({ capHolders: { 'cap#global': ['dep_cart', 'dep_search'] } }));
    expect(global.reason).toBe('concurrency cap "cap" (at most 2 canaries at once): 2 already running (dep_cart, dep_search)');
    const perCloud = evaluateConcurrencyCap(cap(1, 'cloud'), policyInput({ capHolders: { 'cap#cloud:aws': ['dep_cart'] } }));
    expect(perCloud.reason).toBe('concurrency cap "cap" (at most 1 per cloud): 1 already running in cloud aws (dep_cart)');
    const perGroup = evaluateConcurrencyCap(cap(1, 'proxy-group'), policyInput({ deployment: { proxyGroups: ['envoy-aws-use1', 'envoy-gcp-usc1'] }, capHolders: { 'cap#group:envoy-gcp-usc1': ['dep_search'] } }));
    expect(perGroup.reason).toBe('concurrency cap "cap" (at most 1 per proxy-group): 1 already running in proxy group envoy-gcp-usc1 (dep_search)');
  });
});

describe('evaluateConcurrencyCap at other moments', () => {
  it.each(['step', 'promote'] as const)('at %s a running canary is already counted: allowed', (moment) => {
    const verdict = evaluateConcurrencyCap(cap(1, 'global'), policyInput({ moment, capHolders: { 'cap#global': ['a', 'b'] } }));
    expect(verdict.allowed).toBe(true);
    expect(verdict.reason).toContain('checked at create');
  });
});
