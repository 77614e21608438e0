/** CreateDeploymentCommands for the use-case tests: checkout v41 → v42 on eks-use1, two steps, with an idempotency key. */
import type { CreateDeploymentCommand } from '../../shared/usecases/create-deployment.js';

export function createCommand(overrides: Partial<CreateDeploymentCommand> = {}): CreateDeploymentCommand {
  return {
    service: 'checkout',
    environment: null,
    baseline: { version: 'v41' },
    canary: { version: 'v42' },
    targets: [{ cloud: 'aws', cluster: 'eks-use1' }],
    steps: [{ setWeight: 10 }, { setWeight: 100 }],
    spinnaker: null,
    reason: null,
    actor: 'checkout-pipeline',
    idempotencyKey: 'key-1',
    requestHash: 'a'.repeat(64),
    ...overrides,
  };
}
