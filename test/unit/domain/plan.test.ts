/** Compiling a deployment's steps into the plan the canary runs (shared/domain/plan.ts). */
import { describe, expect, it } from 'vitest';
import type { Target } from '../../../shared/domain/deployment.js';
import { checkTargets, compileSteps, type ClusterRef, type WireStep } from '../../../shared/domain/plan.js';
import { validationErrorOf } from '../../support/errors.js';
import { deploymentBody } from '../../support/requests.js';

const clusters: ClusterRef[] = [
  { name: 'eks-use1', cloud: 'aws' },
  { name: 'eks-usw2', cloud: 'aws' },
  { name: 'gke-usc1', cloud: 'gcp' },
];


describe('compileSteps', () => {
  it("makes units explicit: API.md's example plan", () => {
    const steps = deploymentBody()['steps'] as WireStep[];

    expect(compileSteps(steps, clusters)).toEqual([
      { kind: 'setWeight', canaryPercent: 5, wave: ['gcp'] },
      { kind: 'pause', durationSeconds: 300 },
      { kind: 'analysis', template: 'http-golden-signals', intervalSeconds: 60, count: 5 },
      { kind: 'setWeight', canaryPercent: 25, wave: null },
      { kind: 'pause', durationSeconds: null },
      { kind: 'setWeight', canaryPercent: 100, wave: null },
    ]);
  });

  it('a pause without a duration is a manual gate: durationSeconds null', () => {
    expect(compileSteps([{ pause: {} }], clusters)).toEqual([{ kind: 'pause', durationSeconds: null }]);
  });

  it('an empty plan compiles to no steps', () => {
    expect(compileSteps([], clusters)).toEqual([]);
  });

  describe('waves', () => {
    it('a cloud name reaches every cluster of that cloud; a cluster name reaches that cluster', () => {
      expect(compileSteps([{ setWeight: 10, wave: ['aws'] }], clusters)).toEqual([{ kind: 'setWeight', canaryPercent: 10, wave: ['aws'] }]);
      expect(compileSteps([{ setWeight: 10, wave: ['gke-usc1'] }], clusters)).toEqual([{ kind: 'setWeight', canaryPercent: 10, wave: ['gke-usc1'] }]);
      expect(compileSteps([{ setWeight: 10, wave: ['eks-use1', 'gcp'] }], clusters)).toHaveLength(1);
    });

    it('a cloud wave reaches each of its clusters: a later lower weight on one of them is refused', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 50, wave: ['aws'] }, { setWeight: 20, wave: ['eks-usw2'] }], clusters));
      expect(error).toMatchObject({ field: 'steps[1].setWeight', rule: 'weights-never-decrease' });
      expect(error.message).toContain('eks-usw2');
    });

    it('a cluster wave reaches only that cluster: its cloud sibling may still go lower', () => {
      expect(() => compileSteps([{ setWeight: 50, wave: ['eks-use1'] }, { setWeight: 20, wave: ['eks-usw2'] }], clusters)).not.toThrow();
    });

    it('an entry that is neither a cloud nor a reachable cluster is refused, naming the entry', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 5 }, { setWeight: 10, wave: ['gcp', 'aks-eu1'] }], clusters));
      expect(error).toMatchObject({ field: 'steps[1].wave[1]', rule: 'known-wave' });
      expect(error.message).toContain('aks-eu1');
    });

    it('a cloud the deployment does not reach is an unknown wave entry', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 10, wave: ['gcp'] }], [{ name: 'eks-use1', cloud: 'aws' }]));
      expect(error).toMatchObject({ field: 'steps[0].wave[0]', rule: 'known-wave' });
    });
  });

  describe('weights never decrease per cluster (a rollback is not a step)', () => {
    it('gcp at 50, then everything at 25: refused at the second step', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 50, wave: ['gcp'] }, { setWeight: 25 }], clusters));
      expect(error).toMatchObject({ field: 'steps[1].setWeight', rule: 'weights-never-decrease' });
      expect(error.message).toContain('gke-usc1');
    });

    it('gcp at 50, then aws at 25: fine, each cluster only goes up', () => {
      expect(() => compileSteps([{ setWeight: 50, wave: ['gcp'] }, { setWeight: 25, wave: ['aws'] }], clusters)).not.toThrow();
    });

    it('holding a weight, or going to 0 from 0, is not a decrease', () => {
      expect(() => compileSteps([{ setWeight: 0 }, { setWeight: 25 }, { setWeight: 25 }, { setWeight: 100 }], clusters)).not.toThrow();
    });

    it('pauses and analyses in between do not reset what a cluster was given', () => {
      const steps: WireStep[] = [{ setWeight: 30 }, { pause: { duration: '1m' } }, { analysis: { template: 't', interval: '1m', count: 1 } }, { setWeight: 10 }];
      expect(validationErrorOf(() => compileSteps(steps, clusters))).toMatchObject({ field: 'steps[3].setWeight', rule: 'weights-never-decrease' });
    });
  });

  describe('duration bounds', () => {
    it.each([
      ['1s', 1],
      ['24h', 86_400],
    ])('a pause of %s is within 1s..24h', (text, seconds) => {
      expect(compileSteps([{ pause: { duration: text } }], clusters)).toEqual([{ kind: 'pause', durationSeconds: seconds }]);
    });

    it('a pause longer than 24h is refused with duration-range', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 5 }, { pause: { duration: '24h1s' } }], clusters));
      expect(error).toMatchObject({ field: 'steps[1].pause.duration', rule: 'duration-range' });
    });

    it.each([
      ['10s', 10],
      ['1h', 3600],
    ])('an analysis interval of %s is within 10s..1h', (text, seconds) => {
      expect(compileSteps([{ analysis: { template: 't', interval: text, count: 3 } }], clusters)).toEqual([
        { kind: 'analysis', template: 't', intervalSeconds: seconds, count: 3 },
      ]);
    });

    it.each(['9s', '1h1s'])('an analysis interval of %s is refused with duration-range', (text) => {
      const error = validationErrorOf(() => compileSteps([{ analysis: { template: 't', interval: text, count: 3 } }], clusters));
      expect(error).toMatchObject({ field: 'steps[0].analysis.interval', rule: 'duration-range' });
    });

    it('text that is not a duration is refused with rule duration, naming the field', () => {
      expect(validationErrorOf(() => compileSteps([{ pause: { duration: '5min' } }], clusters))).toMatchObject({ field: 'steps[0].pause.duration', rule: 'duration' });
      expect(validationErrorOf(() => compileSteps([{ pause: { duration: '0s' } }], clusters))).toMatchObject({ field: 'steps[0].pause.duration', rule: 'duration' });
      expect(validationErrorOf(() => compileSteps([{ analysis: { template: 't', interval: 'soon', count: 1 } }], clusters))).toMatchObject({
        field: 'steps[0].analysis.interval',
        rule: 'duration',
      });
    });
  });
});

describe('checkTargets', () => {
  it('accepts configured clusters of the right cloud, each once, and no targets at all', () => {
    expect(() => checkTargets([{ cloud: 'aws', cluster: 'eks-use1' }, { cloud: 'gcp', cluster: 'gke-usc1' }], clusters)).not.toThrow();
    expect(() => checkTargets([], clusters)).not.toThrow();
  });

  it('refuses a cluster that is not configured', () => {
    const error = validationErrorOf(() => checkTargets([{ cloud: 'aws', cluster: 'eks-use1' }, { cloud: 'aws', cluster: 'eks-euw1' }], clusters));
    expect(error).toMatchObject({ field: 'targets[1].cluster', rule: 'known-cluster' });
    expect(error.message).toContain('eks-euw1');
  });

  it('refuses a cluster named with the wrong cloud', () => {
    const error = validationErrorOf(() => checkTargets([{ cloud: 'aws', cluster: 'gke-usc1' } as Target], clusters));
    expect(error).toMatchObject({ field: 'targets[0].cloud', rule: 'cluster-cloud' });
    expect(error.message).toContain('gcp');
  });

  it('refuses a cluster listed twice', () => {
    const error = validationErrorOf(() => checkTargets([{ cloud: 'gcp', cluster: 'gke-usc1' }, { cloud: 'gcp', cluster: 'gke-usc1' }], clusters));
    expect(error).toMatchObject({ field: 'targets[1].cluster', rule: 'unique' });
  });
});
