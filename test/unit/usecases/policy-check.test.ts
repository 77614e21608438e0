/**
 * Judging a deployment by the policy rules (shared/usecases/policy-check.ts, and its use at create),
 * on fakes: the PolicyInput is gathered from the active-run marks and their deployments, the
 * registry's splits and the service's SUCCEEDED deployments; no rule that applies means nothing is
 * read; a refusal at create throws PolicyDeniedError naming every refusing rule and writes nothing;
 * a replay of an accepted create is not judged again; the dry run answers the create's verdicts.
 */
import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../shared/domain/deployment.js';
import { DependencyUnavailableError, PolicyDeniedError } from '../../../shared/domain/errors.js';
import type { PolicyRule } from '../../../shared/domain/policy/types.js';
import { createDeployment, evaluateCreatePolicy, type CreateDeploymentCommand } from '../../../shared/usecases/create-deployment.js';
import { createCommand } from '../../support/create-commands.js';
import { checkPolicy, policyInputFor, type PolicySubject } from '../../../shared/usecases/policy-check.js';
import { makeDeployment, T0 } from '../../support/deployments.js';
import { rejectionOf } from '../../support/errors.js';
import { fakeDeps, writeAttempts, type FakeDeps } from '../../support/fakes.js';

const EVERYWHERE = { services: ['*'], environments: ['*'] };
const FREEZE: PolicyRule = { name: 'millennium', kind: 'freeze-window', ...EVERYWHERE, timeZone: 'UTC', once: { start: '2000-01-01T00:00', end: '2100-01-01T00:00' } };
const PROD_ANALYSIS: PolicyRule = { name: 'prod-analysis', kind: 'required-analysis', services: ['*'], environments: ['prod'], minJudgments: 1 };
const FIVE_PER_GROUP: PolicyRule = { name: 'five', kind: 'concurrency-cap', ...EVERYWHERE, max: 5, per: 'proxy-group' };

const subject: PolicySubject = {
  service: 'checkout',
  environment: 'prod',
  canaryVersion: 'v1.5.0',
  steps: [{ kind: 'setWeight', canaryPercent: 100, wave: null }],
  createdBy: 'alice',
  targets: [{ cloud: 'aws', cluster: 'eks-use1' }],
};

async function split(deps: FakeDeps, service: string, proxyGroup: string): Promise<void> {
  await deps.registry.putSplit({ service, proxyGroup, weights: { v1: 100 }, revision: 1, updatedAt: T0.toISOString() });
}

/** A stored deployment, marked running unless `marked` is false. */
async function stored(deps: FakeDeps, deployment: Deployment, marked = true): Promise<Deployment> {
  await deps.deployments.createIfAbsent(deployment);
  if (marked) await deps.activeRuns.mark(deployment.id, deployment.createdAt);
  return deployment;
}

const command = (overrides: Partial<CreateDeploymentCommand> = {}) => createCommand({ environment: 'prod', ...overrides });

describe('policyInputFor', () => {
  it('gathers the holders of the caps’ slots, the dependencies rolling back and the environments this version succeeded in', async () => {
    const dependencies: PolicyRule = { name: 'deps', kind: 'dependency-health', ...EVERYWHERE, dependsOn: ['auth', 'search', 'billing'] };
    const order: PolicyRule = { name: 'staging-first', kind: 'promotion-order', ...EVERYWHERE, after: 'staging' };
    const deps = fakeDeps({ policyRules: [FREEZE, FIVE_PER_GROUP, dependencies, order] });
    await deps.slots.claim('five#group:envoy-aws-use1', 'dep_auth', 5, T0.toISOString());
    await deps.slots.claim('five#group:envoy-gcp-usc1', 'dep_search', 5, T0.toISOString());
    await split(deps, 'checkout', 'envoy-aws-use1');
    await split(deps, 'auth', 'envoy-aws-use1');
    await split(deps, 'auth', 'envoy-gcp-usc1');
    // Running: auth on both clouds (gcp from its weights), rolling back; search on gcp, shifting.
    await stored(deps, { ...makeDeployment({ service: 'auth', targets: [{ cloud: 'aws', cluster: 'eks-use1' }] }), phase: 'ROLLING_BACK', weights: { gcp: { v1: 90, v2: 10 } } });
    await stored(deps, { ...makeDeployment({ service: 'search', targets: [{ cloud: 'gcp', cluster: 'gke-usc1' }] }), phase: 'SHIFTING' });
    // Not running: a released run whose mark lingers, and a mark whose deployment is gone.
    const over = makeDeployment({ service: 'billing' });
    await stored(deps, { ...over, phase: 'SUCCEEDED', run: { ...over.run, released: true } });
    await deps.activeRuns.mark('dep_GONE', T0.toISOString());
    // This version SUCCEEDED in staging and in an unnamed environment; another version in qa.
    await stored(deps, { ...makeDeployment({ environment: 'staging' }), phase: 'SUCCEEDED' }, false);
    await stored(deps, { ...makeDeployment({}), phase: 'SUCCEEDED' }, false);
    await stored(deps, { ...makeDeployment({ environment: 'qa', canary: { version: 'v1.4.1' } }), phase: 'SUCCEEDED' }, false);
    await stored(deps, { ...makeDeployment({ environment: 'canary-env' }), phase: 'ROLLED_BACK' }, false);

    const input = await policyInputFor(deps, subject, { moment: 'create', principal: 'alice' });

    expect(input).toEqual({
      deployment: { service: 'checkout', environment: 'prod', canaryVersion: 'v1.5.0', steps: subject.steps, createdBy: 'alice', clouds: ['aws'], proxyGroups: ['envoy-aws-use1'] },
      moment: 'create',
      principal: 'alice',
      now: deps.clock.now(),
      // Only the scopes this deployment joins: checkout is routed by envoy-aws-use1 alone.
      capHolders: { 'five#group:envoy-aws-use1': ['dep_auth'] },
      succeededIn: ['staging'],
      rollingBack: ['auth'],
    });
  });

  it('checks the dependencies the service declared in the registry rather than the rule\'s', async () => {
    const dependencies: PolicyRule = { name: 'deps', kind: 'dependency-health', ...EVERYWHERE, dependsOn: ['auth'] };
    const deps = fakeDeps({ policyRules: [dependencies] });
    await stored(deps, { ...makeDeployment({ service: 'auth' }), phase: 'ROLLING_BACK' });
    await stored(deps, { ...makeDeployment({ service: 'payments' }), phase: 'ROLLING_BACK' });
    await deps.registry.putDependencies({ service: 'checkout', dependencies: ['payments'], revision: 1, updatedAt: T0.toISOString(), updatedBy: 'alice' });

    const input = await policyInputFor(deps, subject, { moment: 'create', principal: 'alice' });

    expect(input).toMatchObject({ rollingBack: ['payments'], declaredDependencies: ['payments'] });
  });

  it('reads only what the applicable rules look at: a freeze alone reads no deployment', async () => {
    const deps = fakeDeps({ policyRules: [FREEZE] });
    await stored(deps, { ...makeDeployment({ service: 'auth' }), phase: 'ROLLING_BACK' });
    const reads = { list: 0, get: 0 };
    const { list, get } = deps.deployments;
    deps.deployments.list = (query) => (reads.list++, list.call(deps.deployments, query));
    deps.deployments.get = (id) => (reads.get++, get.call(deps.deployments, id));

    const input = await policyInputFor(deps, subject, { moment: 'create', principal: 'alice' });

    expect(input.rollingBack).toEqual([]);
    expect(input.succeededIn).toEqual([]);
    expect(reads).toEqual({ list: 0, get: 0 });
  });

  it('leaves the deployment judged out of the holders, and without targets counts every configured cloud', async () => {
    const deps = fakeDeps({ policyRules: [{ ...FIVE_PER_GROUP, per: 'global' }] });
    const self = await stored(deps, makeDeployment({ targets: [] }));
    await deps.slots.claim('five#global', self.id, 5, T0.toISOString());
    await deps.slots.claim('five#global', 'dep_other', 5, T0.toISOString());

    const input = await policyInputFor(deps, { ...subject, id: self.id, targets: [] }, { moment: 'create', principal: 'alice' });

    expect(input.capHolders).toEqual({ 'five#global': ['dep_other'] });
    // A cap judges a start only: at a step its slots are not read.
    deps.slots.failNext('holders', new DependencyUnavailableError('table', 'GetItem'));
    expect((await policyInputFor(deps, { ...subject, id: self.id }, { moment: 'step', principal: 'alice' })).capHolders).toEqual({});
    expect(input.deployment.clouds).toEqual(['aws', 'gcp']);
  });
});

describe('checkPolicy', () => {
  it('reads nothing when no configured rule applies (the stores would fail if asked)', async () => {
    const deps = fakeDeps({ policyRules: [PROD_ANALYSIS] });
    deps.activeRuns.failNext('list', new DependencyUnavailableError('table', 'Query'));

    expect(await checkPolicy(deps, { ...subject, environment: 'staging' }, { moment: 'create', principal: 'alice' })).toEqual({ allowed: true, verdicts: [], inputs: null });
  });

  it('answers every applicable verdict, refusing when one refuses', async () => {
    const deps = fakeDeps({ policyRules: [FREEZE, PROD_ANALYSIS] });

    const decision = await checkPolicy(deps, subject, { moment: 'create', principal: 'alice' });

    expect(decision.allowed).toBe(false);
    expect(decision.verdicts.map((v) => [v.rule, v.allowed, v.nextAllowedAt])).toEqual([
      ['millennium', false, '2100-01-01T00:00:00.000Z'],
      ['prod-analysis', false, null],
    ]);
  });
});

describe('createDeployment under policy', () => {
  it('a refusal throws PolicyDeniedError naming every refusing rule, and writes one policy.denied event on the service and nothing else', async () => {
    const deps = fakeDeps({ policyRules: [FREEZE, PROD_ANALYSIS] });

    const error = await rejectionOf(createDeployment(deps, command()));

    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).denied).toEqual([
      { rule: 'millennium', kind: 'freeze-window', reason: expect.stringContaining('millennium'), nextAllowedAt: '2100-01-01T00:00:00.000Z' },
      { rule: 'prod-analysis', kind: 'required-analysis', reason: expect.stringContaining('analysis'), nextAllowedAt: null },
    ]);
    expect(writeAttempts(deps)).toBe(1);
    expect(deps.audit.all()).toEqual([
      {
        subject: 'service/checkout',
        eventId: `${deps.clock.now().toISOString()}#policy-denied-dep_00000000000000000000000001`,
        at: deps.clock.now().toISOString(),
        actor: 'checkout-pipeline',
        action: 'policy.denied',
        reason: (error as PolicyDeniedError).message,
        details: {
          service: 'checkout',
          environment: 'prod',
          canary: 'v42',
          baseline: 'v41',
          verdicts: [expect.objectContaining({ rule: 'millennium', allowed: false }), expect.objectContaining({ rule: 'prod-analysis', allowed: false })],
          inputs: { moment: 'create', principal: 'checkout-pipeline', now: deps.clock.now().toISOString(), step: null, gathered: { clouds: ['aws'], proxyGroups: [], capHolders: {}, succeededIn: [], rollingBack: [] } },
        },
      },
    ]);
    expect(deps.deployments.all()).toEqual([]);
    expect(deps.workflow.started).toEqual([]);
  });

  it('another environment the rule does not name is allowed', async () => {
    const deps = fakeDeps({ policyRules: [PROD_ANALYSIS] });

    const { deployment } = await createDeployment(deps, command({ environment: 'staging' }));

    expect(deployment.environment).toBe('staging');
    expect(deps.deployments.all()).toEqual([deployment]);
  });

  it('a replay of an accepted create is answered as before, not judged again', async () => {
    const deps = fakeDeps();
    const first = await createDeployment(deps, command());
    deps.policyRules = [FREEZE];

    const replay = await createDeployment(deps, command());

    expect(replay).toEqual({ deployment: first.deployment, replayed: true });
    // A new key is a new create, and is judged.
    expect(await rejectionOf(createDeployment(deps, command({ idempotencyKey: 'key-2' })))).toBeInstanceOf(PolicyDeniedError);
  });

  it('the dry run answers the verdicts the create is refused with, writing nothing', async () => {
    const deps = fakeDeps({ policyRules: [FREEZE, PROD_ANALYSIS] });

    const decision = await evaluateCreatePolicy(deps, command());
    expect(writeAttempts(deps)).toBe(0);
    const error = (await rejectionOf(createDeployment(deps, command()))) as PolicyDeniedError;

    expect(decision.allowed).toBe(false);
    expect(decision.verdicts.filter((v) => !v.allowed).map(({ rule, kind, reason, nextAllowedAt }) => ({ rule, kind, reason, nextAllowedAt }))).toEqual(error.denied);
  });
});
