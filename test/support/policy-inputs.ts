/** PolicyInputs for the pure rule tests: a create of checkout 2.0.0 in prod with nothing else going on, overridable. */
import type { Step } from '../../shared/domain/deployment.js';
import type { PolicyDeployment, PolicyInput } from '../../shared/domain/policy/input.js';

export const NOW = new Date('2026-06-10T12:00:00Z');

export function policyInput(overrides: Partial<Omit<PolicyInput, 'deployment'>> & { deployment?: Partial<PolicyDeployment> } = {}): PolicyInput {
  const { deployment, ...rest } = overrides;
  return {
    deployment: {
      service: 'checkout',
      environment: 'prod',
      canaryVersion: '2.0.0',
      steps: [weight(10), analysis(3), weight(100)],
      createdBy: 'alice',
      clouds: ['aws'],
      proxyGroups: ['envoy-aws-use1'],
      ...deployment,
    },
    moment: 'create',
    principal: 'alice',
    now: NOW,
    capHolders: {},
    succeededIn: [],
    rollingBack: [],
    ...rest,
  };
}

export function weight(canaryPercent: number): Step {
  return { kind: 'setWeight', canaryPercent, wave: null };
}

/** An analysis step judging `count` times (the template's content does not matter to policy). */
export function analysis(count: number): Step {
  return { kind: 'analysis', template: { name: 'http-golden-signals', stepSeconds: 10, thresholds: { pass: 95, marginal: 75 }, groupWeights: {}, metrics: [] }, intervalSeconds: 60, count };
}

