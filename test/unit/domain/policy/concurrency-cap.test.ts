/** Concurrency caps (shared/domain/policy/concurrency-cap.ts): the deployment asked about counts as one more. */
import { describe, expect, it } from 'vitest';
import { evaluateConcurrencyCap } from '../../../../shared/domain/policy/concurrency-cap.js';
import type { RunningCanary } from '../../../../shared/domain/policy/input.js';
import type { ConcurrencyCapRule } from '../../../../shared/domain/policy/types.js';
import { policyInput } from '../../../support/policy-inputs.js';

const cap = (max: number, per: ConcurrencyCapRule['per']): ConcurrencyCapRule => ({ name: 'cap', kind: 'concurrency-cap', services: ['*'], environments: ['*'], max, per });
const onAws = (service: string): RunningCanary => ({ service, clouds: ['aws'], proxyGroups: ['envoy-aws-use1'] });
const onGcp = (service: string): RunningCanary => ({ service, clouds: ['gcp'], proxyGroups: ['envoy-gcp-usc1'] });
const onBoth = (service: string): RunningCanary => ({ service, clouds: ['aws', 'gcp'], proxyGroups: ['envoy-aws-use1', 'envoy-gcp-usc1'] });

describe('evaluateConcurrencyCap at create (the deployment: aws, envoy-aws-use1)', () => {
  it.each([
    { case: 'global: nothing running, cap 1', rule: cap(1, 'global'), running: [], allowed: true },
    { case: 'global: 2 running, cap 3 (this one is the third)', rule: cap(3, 'global'), running: [onAws('a'), onGcp('b')], allowed: true },
    { case: 'global: 3 running, cap 3', rule: cap(3, 'global'), running: [onAws('a'), onGcp('b'), onAws('c')], allowed: false },
    { case: 'cloud: 2 on gcp, cap 1 (none on aws)', rule: cap(1, 'cloud'), running: [onGcp('a'), onGcp('b')], allowed: true },
    { case: 'cloud: 1 on aws, cap 1', rule: cap(1, 'cloud'), running: [onGcp('a'), onAws('b')], allowed: false },
    { case: 'cloud: one on both clouds counts in aws', rule: cap(1, 'cloud'), running: [onBoth('a')], allowed: false },
    { case: 'proxy-group: 2 in the gcp group, cap 1', rule: cap(1, 'proxy-group'), running: [onGcp('a'), onGcp('b')], allowed: true },
    { case: 'proxy-group: 1 in envoy-aws-use1, cap 2', rule: cap(2, 'proxy-group'), running: [onAws('a')], allowed: true },
    { case: 'proxy-group: 2 in envoy-aws-use1, cap 2', rule: cap(2, 'proxy-group'), running: [onAws('a'), onBoth('b')], allowed: false },
  ])('$case → allowed: $allowed', ({ rule, running, allowed }) => {
    const verdict = evaluateConcurrencyCap(rule, policyInput({ running }));
    expect(verdict).toMatchObject({ rule: 'cap', kind: 'concurrency-cap', allowed, nextAllowedAt: null });
    expect(verdict.reason).toContain('concurrency cap "cap"');
  });

  it('a refusal names the cap and what is running where', () => {
    const global = evaluateConcurrencyCap(cap(2, 'global'), policyInput({ running: [onAws('cart'), onGcp('search')] }));
    expect(global.reason).toBe('concurrency cap "cap" (at most 2 canaries at once): 2 already running (cart, search)');
    const perCloud = evaluateConcurrencyCap(cap(1, 'cloud'), policyInput({ running: [onGcp('search'), onAws('cart')] }));
    expect(perCloud.reason).toBe('concurrency cap "cap" (at most 1 per cloud): 1 already running in cloud aws (cart)');
    const perGroup = evaluateConcurrencyCap(cap(1, 'proxy-group'), policyInput({ deployment: { proxyGroups: ['envoy-aws-use1', 'envoy-gcp-usc1'] }, running: [onGcp('search')] }));
    expect(perGroup.reason).toBe('concurrency cap "cap" (at most 1 per proxy-group): 1 already running in proxy group envoy-gcp-usc1 (search)');
  });
});

describe('evaluateConcurrencyCap at other moments', () => {
  it.each(['step', 'promote'] as const)('at %s a running canary is already counted: allowed', (moment) => {
    const verdict = evaluateConcurrencyCap(cap(1, 'global'), policyInput({ moment, running: [onAws('a'), onAws('b')] }));
    expect(verdict.allowed).toBe(true);
    expect(verdict.reason).toContain('checked at create');
  });
});
