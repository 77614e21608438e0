/** onPromotion.deregisterBaseline: once the canary serves 100%, the baseline leaves the mesh; never otherwise. */
import { describe, expect, it } from 'vitest';
import { LocalStateMachine } from '../../../../shared/adapters/workflow/local-state-machine.js';
import { runCanaryTask } from '../../../../shared/usecases/canary/run-task.js';
import { createDeployment } from '../../../../shared/usecases/create-deployment.js';
import { canaryDefinition } from '../../../../shared/workflow/definition.js';
import { parseTaskInput } from '../../../../shared/workflow/task-input.js';
import { fakeHttpDeps } from '../../../support/fakes.js';

async function run(deregisterBaseline: boolean, steps: { setWeight: number }[]) {
  const deps = fakeHttpDeps({ proxyGroups: [] });
  deps.clock = { now: () => new Date() } as never;
  const runner = new LocalStateMachine({ definition: canaryDefinition() as never, runTask: (input) => runCanaryTask(deps, parseTaskInput(input)), logger: deps.logger, waitMs: 1, retryMs: 1 });
  deps.workflow = runner as never;
  const { deployment } = await createDeployment(deps, {
    service: 'checkout',
    baseline: { version: 'v41' },
    canary: { version: 'v42' },
    targets: [],
    steps,
    deregisterBaseline,
    spinnaker: null,
    reason: null,
    actor: 'test',
    idempotencyKey: undefined,
    requestHash: 'h',
  });
  await runner.settled(deployment.id);
  const versions = (await deps.registry.getService('checkout'))!.versions.map((v) => v.version);
  return { final: (await deps.deployments.get(deployment.id))!, versions };
}

describe('deregistering the baseline on promotion', () => {
  it('asked: the promoted deployment leaves only the canary (and the others) registered', async () => {
    const { final, versions } = await run(true, [{ setWeight: 50 }, { setWeight: 100 }]);
    expect(final.phase).toBe('SUCCEEDED');
    expect(versions).toContain('v42');
    expect(versions).not.toContain('v41');
  });

  it('not asked: the baseline stays registered', async () => {
    const { final, versions } = await run(false, [{ setWeight: 100 }]);
    expect(final.phase).toBe('SUCCEEDED');
    expect(versions).toContain('v41');
  });
});
