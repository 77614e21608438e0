/** The deployment and what Spinnaker sees of it (shared/domain/deployment.ts, docs/api.md "status"). */
import { planHash } from '../../../shared/domain/plan-hash.js';
import { describe, expect, it } from 'vitest';
import {
  DeploymentStatus,
  isFinished,
  newDeployment,
  Phase,
  revise,
  statusOf,
  type Deployment,
  type NewDeployment,
} from '../../../shared/domain/deployment.js';
import { describeProgress } from '../../../shared/domain/progress.js';

const CREATED = new Date('2025-03-01T12:00:00.000Z');
const LATER = new Date('2025-03-01T12:05:00.000Z');

const input: NewDeployment = {
  id: 'dep_00000000000000000000000001',
  service: 'checkout',
  baseline: { version: 'v41' },
  canary: { version: 'v42' },
  targets: [{ cloud: 'aws', cluster: 'eks-use1' }],
  steps: [
    { kind: 'setWeight', canaryPercent: 10, wave: null },
    { kind: 'pause', durationSeconds: null },
    { kind: 'setWeight', canaryPercent: 100, wave: null },
  ],
  createdBy: 'checkout-pipeline',
  reason: 'release 42',
  spinnaker: null,
};

const expectedStatus: Record<Phase, DeploymentStatus> = {
  PENDING: 'NOT_STARTED',
  PREPARING: 'RUNNING',
  SHIFTING: 'RUNNING',
  CONVERGING: 'RUNNING',
  PAUSED: 'RUNNING',
  HELD: 'RUNNING',
  ANALYZING: 'RUNNING',
  PROMOTING: 'RUNNING',
  ROLLING_BACK: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  ROLLED_BACK: 'TERMINAL',
  FAILED: 'TERMINAL',
  CANCELED: 'CANCELED',
};

const phases = Object.values(Phase);

function at(phase: Phase, change: Partial<Deployment> = {}): Deployment {
  return { ...newDeployment(input, CREATED), phase, ...change };
}

describe('statusOf', () => {
  it('the expected mapping covers exactly the phases there are', () => {
    expect(Object.keys(expectedStatus).sort()).toEqual([...phases].sort());
  });

  it.each(phases)('%s maps to its status', (phase) => {
    expect(statusOf(phase)).toBe(expectedStatus[phase]);
  });

  it('every phase maps to one of the five statuses Spinnaker is configured with', () => {
    const statuses: string[] = Object.values(DeploymentStatus);
    for (const phase of phases) expect(statuses).toContain(statusOf(phase));
  });
});

describe('isFinished', () => {
  it.each(phases)('%s is finished exactly when its status is SUCCEEDED, TERMINAL or CANCELED', (phase) => {
    expect(isFinished(phase)).toBe(['SUCCEEDED', 'TERMINAL', 'CANCELED'].includes(expectedStatus[phase]));
  });

  it('rolling back is still running; rolled back is finished', () => {
    expect(isFinished(Phase.RollingBack)).toBe(false);
    expect(isFinished(Phase.RolledBack)).toBe(true);
  });
});

describe('newDeployment', () => {
  it('starts at version 1, PENDING, at step 0, with no weights, no result, and a run that has not begun', () => {
    const d = newDeployment(input, CREATED);
    expect(d).toEqual({
      ...input,
      planHash: planHash(input.steps),
      phase: 'PENDING',
      stepIndex: 0,
      weights: {},
      result: null,
      createdAt: '2025-03-01T12:00:00.000Z',
      updatedAt: '2025-03-01T12:00:00.000Z',
      run: {
        stepStartedAt: null,
        waitedSeconds: 0,
        analysisRuns: 0,
        analysisDeferrals: 0,
        shifted: false,
        paused: false,
        hold: null,
        outcome: null,
        released: false,
        judgments: [],
        fencingToken: null,
        execution: null,
        unverified: [],
        lastChange: null,
      },
      version: 1,
    });
  });

  it('takes its time from the Date given, not the system clock', () => {
    const past = new Date('2001-02-03T04:05:06.789Z');
    const d = newDeployment(input, past);
    expect(d.createdAt).toBe('2001-02-03T04:05:06.789Z');
    expect(d.updatedAt).toBe(d.createdAt);
  });
});

describe('revise', () => {
  it('bumps the version by one and moves updatedAt; id and createdAt stay', () => {
    const first = newDeployment(input, CREATED);
    const next = revise(first, { phase: Phase.Shifting, stepIndex: 1 }, LATER);
    expect(next).toEqual({ ...first, phase: 'SHIFTING', stepIndex: 1, version: 2, updatedAt: LATER.toISOString() });
    expect(next.id).toBe(first.id);
    expect(next.createdAt).toBe(first.createdAt);
  });

  it('does not change the deployment it revises', () => {
    const first = newDeployment(input, CREATED);
    revise(first, { phase: Phase.Paused }, LATER);
    expect(first).toMatchObject({ phase: 'PENDING', version: 1, updatedAt: CREATED.toISOString() });
  });

  it('each revision counts: three revisions make version 4', () => {
    let d = newDeployment(input, CREATED);
    for (let i = 0; i < 3; i++) d = revise(d, {}, LATER);
    expect(d.version).toBe(4);
  });
});

describe('describeProgress', () => {
  it('PENDING says how many steps are planned (plural)', () => {
    expect(describeProgress(at(Phase.Pending))).toBe('accepted, waiting to start: 3 steps planned');
  });

  it('PENDING with one step says "step", singular', () => {
    expect(describeProgress(at(Phase.Pending, { steps: [{ kind: 'setWeight', canaryPercent: 100, wave: null }] }))).toBe('accepted, waiting to start: 1 step planned');
  });

  it('SUCCEEDED names the canary that now serves everything', () => {
    expect(describeProgress(at(Phase.Succeeded, { stepIndex: 3 }))).toBe('promoted: v42 serves 100%');
  });

  it.each([
    [Phase.RolledBack, 'rolled back at step 2/3'],
    [Phase.Canceled, 'canceled at step 2/3'],
    [Phase.Failed, 'failed at step 2/3'],
  ])('%s names the step it stopped at', (phase, text) => {
    expect(describeProgress(at(phase, { stepIndex: 1 }))).toBe(text);
  });

  it('a step number never exceeds the step count, even once every step is done', () => {
    expect(describeProgress(at(Phase.Canceled, { stepIndex: 3 }))).toBe('canceled at step 3/3');
    expect(describeProgress(at(Phase.RollingBack, { stepIndex: 3 }))).toBe('rolling back from step 3/3');
  });

  it('a rollback under way says where it started and why', () => {
    const d = at(Phase.RollingBack, { stepIndex: 0 });
    expect(describeProgress({ ...d, run: { ...d.run, outcome: { kind: 'rollback', reason: 'canceled by alice', finalPhase: 'CANCELED' } } })).toBe('rolling back from step 1/3: canceled by alice');
  });

  it('the promotion names the canary', () => {
    expect(describeProgress(at(Phase.Promoting, { stepIndex: 3 }))).toBe(`promoting: ${input.canary.version} to 100%`);
  });

  it('a step in progress says what it is doing, as docs/api.md shows ("step 3/6: analysis 2/5, score 100")', () => {
    const steps = [
      { kind: 'setWeight', canaryPercent: 5, wave: null },
      { kind: 'pause', durationSeconds: 300 },
      { kind: 'pause', durationSeconds: null },
      { kind: 'analysis', template: { name: 't', stepSeconds: 10, thresholds: { pass: 95, marginal: 75 }, groupWeights: {}, metrics: [] }, intervalSeconds: 60, count: 5 },
    ] as const;
    const base = { ...at(Phase.Shifting), steps: [...steps] } as Deployment;
    expect(describeProgress(base)).toBe('step 1/4: shifting to 5%');
    expect(describeProgress({ ...base, phase: Phase.Converging })).toBe('step 1/4: waiting for every proxy to serve 5%');
    expect(describeProgress({ ...base, phase: Phase.Paused, stepIndex: 1, run: { ...base.run, waitedSeconds: 120 } })).toBe('step 2/4: pause, 120s of 300s waited');
    // A long pause is one hold: progress says until when, not a count every few seconds.
    const holding = { ...base.run, waitedSeconds: 120, hold: { token: 't', kind: 'wait' as const, stepIndex: 1, since: '2025-03-01T12:00:00.000Z', seconds: 180, version: 3 } };
    expect(describeProgress({ ...base, phase: Phase.Paused, stepIndex: 1, run: holding })).toBe('step 2/4: pause, 120s of 300s waited, until 2025-03-01T12:03:00.000Z');
    expect(describeProgress({ ...base, phase: Phase.Paused, stepIndex: 2 })).toBe('step 3/4: waiting for promote (manual gate)');
    const judged = { ...base.run, analysisRuns: 2, judgments: [{ stepIndex: 3, run: 1, at: 'x', score: 100, classification: 'Pass' as const, reason: null }] };
    expect(describeProgress({ ...base, phase: Phase.Analyzing, stepIndex: 3, run: judged })).toBe('step 4/4: analysis 2/5, score 100');
    expect(describeProgress({ ...base, phase: Phase.Analyzing, stepIndex: 3, run: { ...judged, paused: true } })).toBe('step 4/4: paused by an operator, waiting for resume');
  });

  it('says what is being retried, while the note is about the current version, and which groups could not be verified', () => {
    const base = at(Phase.Converging, { version: 4 });
    const note = { action: 'converge', atVersion: 4, attempt: 2, maxAttempts: 13, reason: 'HAProxy hap1 unreachable', at: 'x' };
    expect(describeProgress({ ...base, retrying: note })).toMatch(/ \(retrying: HAProxy hap1 unreachable, attempt 2 of 13\)$/);
    expect(describeProgress({ ...base, retrying: { ...note, atVersion: 3 } })).not.toContain('retrying');
    expect(describeProgress({ ...base, run: { ...base.run, unverified: ['envoy-aws-use1'] } })).toMatch(/ \[unverified: envoy-aws-use1\]$/);
  });

  it('an operator’s reason is in the progress of the end it asked for', () => {
    const canceled = at(Phase.Canceled, { run: { ...at(Phase.Canceled).run, outcome: { kind: 'rollback', reason: 'canceled by alice: bad latency', finalPhase: 'CANCELED', requestedBy: 'alice' } } });
    expect(describeProgress(canceled)).toMatch(/^canceled at step \d+\/\d+ by alice: bad latency$/);
    const promoted = at(Phase.Succeeded, { run: { ...at(Phase.Succeeded).run, outcome: { kind: 'promote', reason: 'promoted in full by bob: hotfix', requestedBy: 'bob' } } });
    expect(describeProgress(promoted)).toBe(`promoted: ${promoted.canary.version} serves 100% (promoted in full by bob: hotfix)`);
  });

  it.each(phases)('%s: always a non-empty string', (phase) => {
    for (const stepIndex of [0, 1, 3]) {
      const text = describeProgress(at(phase, { stepIndex }));
      expect(typeof text).toBe('string');
      expect(text.trim()).not.toBe('');
    }
  });
});
