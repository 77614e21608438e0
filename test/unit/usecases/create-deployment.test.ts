/**
 * Accepting a canary deployment (shared/usecases/create-deployment.ts), on fakes: idempotent
 * replays, a key reused with another body, the crash between the idempotency claim and the
 * deployment write being finished by the retry, versions that must be registered, the service
 * lock taken at creation, and the run started.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError, DependencyUnavailableError, IdempotencyKeyReusedError, ValidationError } from '../../../shared/domain/errors.js';
import { createDeployment, IDEMPOTENCY_RETENTION_SECONDS, type CreateDeploymentCommand } from '../../../shared/usecases/create-deployment.js';
import { T0 } from '../../support/deployments.js';
import { fakeDeps, writeAttempts, type FakeDeps } from '../../support/fakes.js';
import type { Deployment } from '../../../shared/domain/deployment.js';
import { finished, released } from '../../../shared/domain/lifecycle.js';
import { rejectionOf } from '../../support/errors.js';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function command(overrides: Partial<CreateDeploymentCommand> = {}): CreateDeploymentCommand {
  return {
    service: 'checkout',
    baseline: { version: 'v41' },
    canary: { version: 'v42' },
    targets: [
      { cloud: 'aws', cluster: 'eks-use1' },
      { cloud: 'gcp', cluster: 'gke-usc1' },
    ],
    steps: [{ setWeight: 5, wave: ['gcp'] }, { pause: { duration: '5m' } }, { setWeight: 25 }, { pause: {} }, { setWeight: 100 }],
    spinnaker: { executionId: '01HEXAMPLE', stageId: '3', application: 'checkout', pipeline: 'deploy-prod' },
    reason: null,
    actor: 'checkout-pipeline',
    idempotencyKey: '01HEXAMPLE-3',
    requestHash: HASH_A,
    ...overrides,
  };
}


describe('createDeployment', () => {
  it('creates a pending deployment with compiled steps, at the clock’s time, by the actor', async () => {
    const deps = fakeDeps();

    const { deployment, replayed } = await createDeployment(deps, command());

    expect(replayed).toBe(false);
    expect(deployment).toMatchObject({
      id: deps.ids.issued[0],
      service: 'checkout',
      phase: 'PENDING',
      version: 1,
      stepIndex: 0,
      createdBy: 'checkout-pipeline',
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
    });
    expect(deployment.steps[0]).toEqual({ kind: 'setWeight', canaryPercent: 5, wave: ['gcp'] });
    expect(deployment.steps[1]).toEqual({ kind: 'pause', durationSeconds: 300 });
    expect(deps.deployments.all()).toEqual([deployment]);
  });

  it('records one audit event: v000001-created, the actor, and the Spinnaker pipeline as the reason when none is given', async () => {
    const deps = fakeDeps();

    const { deployment } = await createDeployment(deps, command());

    expect(deps.audit.all()).toEqual([
      {
        subject: `deployment/${deployment.id}`,
        eventId: 'v000001-created',
        at: T0.toISOString(),
        actor: 'checkout-pipeline',
        action: 'deployment.created',
        reason: 'spinnaker pipeline checkout/deploy-prod execution 01HEXAMPLE',
        details: {
          service: 'checkout',
          baseline: 'v41',
          canary: 'v42',
          targets: command().targets,
          steps: 5,
        },
      },
    ]);
  });

  it('a reason given wins over the pipeline; with neither, the reason is null', async () => {
    const withReason = fakeDeps();
    await createDeployment(withReason, command({ reason: 'hotfix for INC-42' }));
    expect(withReason.audit.all()[0]!.reason).toBe('hotfix for INC-42');

    const withNeither = fakeDeps();
    await createDeployment(withNeither, command({ spinnaker: null, idempotencyKey: undefined }));
    expect(withNeither.audit.all()[0]!.reason).toBeNull();
  });

  it('claims the idempotency key with the whole deployment, kept for a week', async () => {
    const deps = fakeDeps();

    const { deployment } = await createDeployment(deps, command());

    expect(deps.idempotency.all()).toEqual([
      {
        key: '01HEXAMPLE-3',
        requestHash: HASH_A,
        deployment,
        createdAt: T0.toISOString(),
        expiresAtEpochSeconds: T0.getTime() / 1000 + IDEMPOTENCY_RETENTION_SECONDS,
      },
    ]);
    expect(IDEMPOTENCY_RETENTION_SECONDS).toBe(7 * 24 * 3600);
  });

  it('without a key, claims nothing and creates a new deployment every time', async () => {
    const deps = fakeDeps();

    const first = await createDeployment(deps, command({ idempotencyKey: undefined }));
    // One deployment per service at a time: the first one's run ends and releases the lock.
    await deps.locks.release('checkout', first.deployment.id);
    const second = await createDeployment(deps, command({ idempotencyKey: undefined }));

    expect(first.deployment.id).not.toBe(second.deployment.id);
    expect(deps.deployments.all()).toHaveLength(2);
    expect(deps.idempotency.writeAttempts).toBe(0);
  });

  it('the same key with the same body replays the first answer: the first deployment, replayed: true', async () => {
    const deps = fakeDeps();
    const first = await createDeployment(deps, command());
    deps.clock.advance(60_000);

    const second = await createDeployment(deps, command());

    // The replay is recognised before anything else: no new id, the first answer.
    expect(deps.ids.issued).toHaveLength(1);
    expect(second.deployment.id).toBe(deps.ids.issued[0]);
    expect(second).toEqual({ deployment: first.deployment, replayed: true });
    expect(deps.deployments.all()).toEqual([first.deployment]);
    expect(deps.audit.all()).toHaveLength(1);
    expect(deps.idempotency.all()).toHaveLength(1);
  });

  it('a replay gets the first answer even after what it was checked against changed (the canary deregistered)', async () => {
    const deps = fakeDeps();
    const first = await createDeployment(deps, command());
    const state = await deps.registry.getService('checkout');
    const canary = state!.versions.find((v) => v.version === first.deployment.canary.version)!;
    await deps.registry.deleteVersion('checkout', canary.version, canary.revision);

    const replay = await createDeployment(deps, command());

    expect(replay).toEqual({ deployment: first.deployment, replayed: true });
  });

  it('the same key with another body is IdempotencyKeyReusedError, and nothing else is written', async () => {
    const deps = fakeDeps();
    const first = await createDeployment(deps, command());
    const writesBefore = { deployments: deps.deployments.writeAttempts, audit: deps.audit.writeAttempts, locks: deps.locks.writeAttempts };

    // Another registered canary: the body differs, and is valid on its own.
    const error = await rejectionOf(createDeployment(deps, command({ requestHash: HASH_B, canary: { version: 'v1.5.0' } })));

    expect(error).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(error).toMatchObject({ key: '01HEXAMPLE-3' });
    expect(deps.deployments.writeAttempts).toBe(writesBefore.deployments);
    expect(deps.audit.writeAttempts).toBe(writesBefore.audit);
    expect(deps.locks.writeAttempts).toBe(writesBefore.locks);
    expect(deps.workflow.started).toEqual([first.deployment.id]);
    expect(deps.deployments.all()).toEqual([first.deployment]);
    expect(deps.idempotency.all().map((r) => ('requestHash' in r ? r.requestHash : r.kind))).toEqual([HASH_A]);
  });

  describe('crash recovery: the deployment write fails after the key was claimed', () => {
    it('the first call fails with the key claimed and no deployment; the retry finishes the same deployment', async () => {
      const deps = fakeDeps();
      deps.deployments.failNext('createIfAbsent', new DependencyUnavailableError('DynamoDB table crossfade', 'create deployment'));

      const error = await rejectionOf(createDeployment(deps, command()));

      expect(error).toBeInstanceOf(DependencyUnavailableError);
      const firstId = deps.ids.issued[0]!;
      expect(await deps.idempotency.get('01HEXAMPLE-3')).toMatchObject({ requestHash: HASH_A, deployment: { id: firstId } });
      expect(await deps.deployments.get(firstId)).toBeUndefined();
      expect(deps.deployments.all()).toEqual([]);
      expect(deps.audit.all()).toEqual([]);

      const retry = await createDeployment(deps, command());

      expect(retry.replayed).toBe(true);
      expect(retry.deployment.id).toBe(firstId);
      expect(deps.deployments.all().map((d) => d.id)).toEqual([firstId]);
      expect(deps.audit.all()).toHaveLength(1);
      expect(deps.audit.all()[0]).toMatchObject({ subject: `deployment/${firstId}`, eventId: 'v000001-created' });
    });

    it('a crash before the audit event is finished by the retry too, with exactly one event', async () => {
      const deps = fakeDeps();
      deps.audit.failNext('append', new DependencyUnavailableError('DynamoDB table crossfade', 'append audit event'));

      await rejectionOf(createDeployment(deps, command()));
      expect(deps.deployments.all()).toHaveLength(1);
      expect(deps.audit.all()).toEqual([]);

      await createDeployment(deps, command());
      await createDeployment(deps, command());

      expect(deps.deployments.all()).toHaveLength(1);
      expect(deps.audit.all()).toHaveLength(1);
    });
  });

  describe('invalid input writes nothing', () => {
    it.each<[string, Partial<CreateDeploymentCommand>, { field: string; rule: string }]>([
      ['a target that is not configured', { targets: [{ cloud: 'aws', cluster: 'eks-euw1' }] }, { field: 'targets[0].cluster', rule: 'known-cluster' }],
      ['a target in the wrong cloud', { targets: [{ cloud: 'aws', cluster: 'gke-usc1' }] }, { field: 'targets[0].cloud', rule: 'cluster-cloud' }],
      ['a wave outside the targets', { targets: [{ cloud: 'aws', cluster: 'eks-use1' }], steps: [{ setWeight: 5, wave: ['gcp'] }] }, { field: 'steps[0].wave[0]', rule: 'known-wave' }],
      ['a weight that goes down', { steps: [{ setWeight: 50 }, { setWeight: 10 }] }, { field: 'steps[1].setWeight', rule: 'weights-never-decrease' }],
      ['a pause longer than a day', { steps: [{ pause: { duration: '25h' } }] }, { field: 'steps[0].pause.duration', rule: 'duration-range' }],
      ['an interval that is not a duration', { steps: [{ analysis: { template: 'http-golden-signals', interval: '1 min', count: 1 } }] }, { field: 'steps[0].analysis.interval', rule: 'duration' }],
      ['a template that is not configured', { steps: [{ analysis: { template: 'http-golden-signal', interval: '1m', count: 1 } }] }, { field: 'steps[0].analysis.template', rule: 'known-template' }],
      ['an analysis with no metrics', { steps: [{ analysis: { metrics: [], interval: '1m', count: 1 } }] }, { field: 'steps[0].analysis.metrics', rule: 'metrics-not-empty' }],
      ['a canary that is not registered', { canary: { version: 'v43' } }, { field: 'canary.version', rule: 'registered' }],
      ['a baseline that is not registered', { baseline: { version: 'v40' } }, { field: 'baseline.version', rule: 'registered' }],
      ['a service with no version registered', { service: 'payments' }, { field: 'canary.version', rule: 'registered' }],
    ])('%s: ValidationError, and no store saw a write', async (_name, overrides, expected) => {
      const deps = fakeDeps();

      const error = await rejectionOf(createDeployment(deps, command(overrides)));

      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject(expected);
      expect(writeAttempts(deps)).toBe(0);
      expect(deps.workflow.started).toEqual([]);
    });

    it('a canary that is not registered says which versions are, and how to register it', async () => {
      const deps = fakeDeps();

      const error = await rejectionOf(createDeployment(deps, command({ canary: { version: 'v43' } })));

      expect(error).toMatchObject({ field: 'canary.version', rule: 'registered' });
      expect((error as Error).message).toContain('v43 is not registered for checkout (registered: v41, v42, v1.4.0, v1.5.0)');
      expect((error as Error).message).toContain('PUT /v1/services/checkout/versions/v43');
      expect(writeAttempts(deps)).toBe(0);
    });

    it('without a baseline, only the canary must be registered', async () => {
      const deps = fakeDeps();
      const { deployment } = await createDeployment(deps, command({ baseline: null }));
      expect(deps.deployments.all()).toEqual([deployment]);
    });

    it('with no targets, waves are checked against every configured cluster', async () => {
      const deps = fakeDeps({ clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }] });
      const error = await rejectionOf(createDeployment(deps, command({ targets: [], steps: [{ setWeight: 5, wave: ['gcp'] }] })));
      expect(error).toMatchObject({ field: 'steps[0].wave[0]', rule: 'known-wave' });
      expect(writeAttempts(deps)).toBe(0);

      const ok = fakeDeps();
      await createDeployment(ok, command({ targets: [], steps: [{ setWeight: 5, wave: ['gcp'] }] }));
      expect(ok.deployments.all()).toHaveLength(1);
    });
  });

  describe('one deployment per service at a time: the service lock is taken at creation', () => {
    it('the creation takes the lock for the deployment, with the configured lease', async () => {
      const deps = fakeDeps();

      const { deployment } = await createDeployment(deps, command());

      expect(await deps.locks.get('checkout')).toMatchObject({ owner: deployment.id, leaseExpiresAt: new Date(T0.getTime() + deps.settings.lockLeaseMs).toISOString() });
    });

    it('a second deployment of a locked service is ConflictError naming the holder; nothing of it stays, its key included', async () => {
      const deps = fakeDeps();
      const first = await createDeployment(deps, command());

      const error = await rejectionOf(
        createDeployment(deps, command({ idempotencyKey: '01HOTHER-1', requestHash: HASH_B, spinnaker: { executionId: '01HOTHER', stageId: '1', application: 'checkout', pipeline: 'hotfix' } })),
      );

      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ holder: first.deployment.id });
      expect((error as Error).message).toContain(first.deployment.id);
      // The refused one's claim is forgotten: a retry once the service is free creates it, rather than replaying a deployment that never existed.
      expect(await deps.idempotency.get('01HOTHER-1')).toBeUndefined();
      expect(deps.idempotency.all().map((r) => r.key)).toEqual(['01HEXAMPLE-3']);
      expect(deps.deployments.all()).toEqual([first.deployment]);
      expect(deps.audit.all()).toHaveLength(1);
      expect(deps.workflow.started).toEqual([first.deployment.id]);
      expect(await deps.locks.get('checkout')).toMatchObject({ owner: first.deployment.id });
    });

    it('the refused request, retried once the lock is released, creates its deployment', async () => {
      const deps = fakeDeps();
      const first = await createDeployment(deps, command());
      const other = command({ idempotencyKey: '01HOTHER-1', requestHash: HASH_B });
      await rejectionOf(createDeployment(deps, other));

      await deps.locks.release('checkout', first.deployment.id);
      const retried = await createDeployment(deps, other);

      expect(retried.replayed).toBe(false);
      expect(retried.deployment.id).not.toBe(first.deployment.id);
      expect(await deps.locks.get('checkout')).toMatchObject({ owner: retried.deployment.id });
    });

    it('without a key, the refused deployment is not written either', async () => {
      const deps = fakeDeps();
      const first = await createDeployment(deps, command({ idempotencyKey: undefined }));

      const error = await rejectionOf(createDeployment(deps, command({ idempotencyKey: undefined })));

      expect(error).toMatchObject({ name: 'ConflictError', holder: first.deployment.id });
      expect(deps.deployments.all()).toEqual([first.deployment]);
      expect(deps.idempotency.writeAttempts).toBe(0);
    });

    it('a replay while the deployment still holds the lock answers the first deployment, not 409', async () => {
      const deps = fakeDeps();
      const first = await createDeployment(deps, command());

      const replay = await createDeployment(deps, command());

      expect(replay).toEqual({ deployment: first.deployment, replayed: true });
    });

    /** The run of `d` ended: it finished, released its lock and its active-run mark. */
    async function runEnded(deps: FakeDeps, d: Deployment): Promise<void> {
      const stored = (await deps.deployments.get(d.id))!;
      const ended = finished(stored, {}, T0);
      await deps.deployments.update(ended);
      await deps.deployments.update(released(ended, T0));
      await deps.locks.release('checkout', d.id);
      await deps.activeRuns.unmark(d.id);
    }

    it('a replay of a finished deployment whose lock was released does not take the lock again (nor mark or start its run)', async () => {
      const deps = fakeDeps();
      const first = await createDeployment(deps, command());
      await runEnded(deps, first.deployment);
      const lockWrites = deps.locks.writeAttempts;

      const replay = await createDeployment(deps, command());

      expect(replay).toEqual({ deployment: first.deployment, replayed: true });
      expect(await deps.locks.get('checkout')).toBeUndefined();
      expect(deps.locks.writeAttempts).toBe(lockWrites);
      expect(await deps.activeRuns.list()).toEqual([]);
      expect(deps.workflow.started).toEqual([first.deployment.id]);
    });

    it('nor does it while the next deployment of the service holds it: the replay still answers the first', async () => {
      const deps = fakeDeps();
      const first = await createDeployment(deps, command());
      await runEnded(deps, first.deployment);
      const next = await createDeployment(deps, command({ idempotencyKey: '01HNEXT-1', requestHash: HASH_B }));

      const replay = await createDeployment(deps, command());

      expect(replay).toEqual({ deployment: first.deployment, replayed: true });
      expect(await deps.locks.get('checkout')).toMatchObject({ owner: next.deployment.id });
    });
  });

  describe('the run is started', () => {
    it('once per creation, named by the deployment', async () => {
      const deps = fakeDeps();

      const { deployment } = await createDeployment(deps, command());

      expect(deps.workflow.started).toEqual([deployment.id]);
    });

    it('again on a replay (starting is idempotent), for the first deployment', async () => {
      const deps = fakeDeps();
      const { deployment } = await createDeployment(deps, command());

      await createDeployment(deps, command());

      expect(deps.workflow.started).toEqual([deployment.id, deployment.id]);
    });

    it('a start that failed is made by the retry: the deployment was written, the replay starts its run', async () => {
      const deps = fakeDeps();
      const unavailable = new DependencyUnavailableError('Step Functions arn:aws:states:us-east-1:000000000000:stateMachine:crossfade-canary', 'start execution');
      const start = deps.workflow.start.bind(deps.workflow);
      deps.workflow.start = async () => {
        deps.workflow.start = start;
        throw unavailable;
      };

      expect(await rejectionOf(createDeployment(deps, command()))).toBe(unavailable);
      const [written] = deps.deployments.all();
      expect(written).toBeDefined();
      expect(deps.workflow.started).toEqual([]);

      const retry = await createDeployment(deps, command());

      expect(retry).toEqual({ deployment: written, replayed: true });
      expect(deps.workflow.started).toEqual([written!.id]);
      expect(await deps.locks.get('checkout')).toMatchObject({ owner: written!.id });
    });
  });
});
