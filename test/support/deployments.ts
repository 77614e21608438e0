/** Deployments for tests, made the way production makes them: through the domain's newDeployment. */
import { randomUUID } from 'node:crypto';
import { newDeployment, type Deployment, type NewDeployment } from '../../shared/domain/deployment.js';

/** The instant test deployments are created at unless a test says otherwise. */
export const T0 = new Date('2025-03-01T12:00:00.000Z');

/** A fresh id of the production shape: `dep_` + 26 URL-safe characters. */
export function deploymentId(): string {
  return `dep_${randomUUID().replaceAll('-', '').slice(0, 26).toUpperCase()}`;
}

/** A valid, pending deployment at version 1; `overrides` replaces any input field, `now` its creation time. */
export function makeDeployment(overrides: Partial<NewDeployment> = {}, now: Date = T0): Deployment {
  return newDeployment(
    {
      id: deploymentId(),
      service: 'checkout',
      baseline: { version: 'v1.4.0' },
      canary: { version: 'v1.5.0' },
      targets: [{ cloud: 'aws', cluster: 'eks-use1' }],
      steps: [
        { kind: 'setWeight', canaryPercent: 10, wave: null },
        { kind: 'pause', durationSeconds: 60 },
        { kind: 'setWeight', canaryPercent: 100, wave: null },
      ],
      createdBy: 'tok_spinnaker',
      reason: 'release 1.5.0',
      spinnaker: { executionId: '01HEXEC', stageId: 'stage-1', application: 'checkout', pipeline: 'deploy' },
      ...overrides,
    },
    now,
  );
}

/** `minutes` after T0: distinct creation times give listings a known newest-first order. */
export function minutesAfterT0(minutes: number): Date {
  return new Date(T0.getTime() + minutes * 60_000);
}
