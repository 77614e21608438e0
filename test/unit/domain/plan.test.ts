/** Compiling a deployment's steps into the plan the canary runs (shared/domain/plan.ts). */
import { describe, expect, it } from 'vitest';
import type { AnalysisMetric, AnalysisTemplate } from '../../../shared/domain/analysis.js';
import { embeddedDefaults } from '../../../shared/domain/config.js';
import type { Target } from '../../../shared/domain/deployment.js';
import { checkTargets, compileSteps, type AnalysisCatalog, type ClusterRef, type WireStep } from '../../../shared/domain/plan.js';
import { validationErrorOf } from '../../support/errors.js';
import { deploymentBody } from '../../support/requests.js';

const clusters: ClusterRef[] = [
  { name: 'eks-use1', cloud: 'aws' },
  { name: 'eks-usw2', cloud: 'aws' },
  { name: 'gke-usc1', cloud: 'gcp' },
];

const errorRatio: AnalysisMetric = { name: 'error-ratio', group: 'errors', provider: 'prometheus', query: 'errors{version="{{version}}"}', direction: 'increase', critical: true, noData: 'wait', spreadCheck: false };
const goldenSignals = embeddedDefaults.analysis.templates.find((t) => t.name === 'http-golden-signals')!;
const t: AnalysisTemplate = { name: 't', stepSeconds: 10, thresholds: { pass: 95, marginal: 75 }, groupWeights: {}, metrics: [errorRatio] };

/** The templates these tests name: docs/api.md's `http-golden-signals` (as embedded) and a one-metric `t`. */
const catalog: AnalysisCatalog = { templates: [goldenSignals, t], providers: ['prometheus', 'cloudwatch-use1'] };

describe('compileSteps', () => {
  it("makes units explicit: docs/api.md's example plan", () => {
    const steps = deploymentBody()['steps'] as WireStep[];

    expect(compileSteps(steps, clusters, catalog)).toEqual([
      { kind: 'setWeight', canaryPercent: 5, wave: ['gcp'] },
      { kind: 'pause', durationSeconds: 300 },
      { kind: 'analysis', template: goldenSignals, intervalSeconds: 60, count: 5 },
      { kind: 'setWeight', canaryPercent: 25, wave: null },
      { kind: 'pause', durationSeconds: null },
      { kind: 'setWeight', canaryPercent: 100, wave: null },
    ]);
  });

  it('a pause without a duration is a manual gate: durationSeconds null', () => {
    expect(compileSteps([{ pause: {} }], clusters, catalog)).toEqual([{ kind: 'pause', durationSeconds: null }]);
  });

  it('an empty plan compiles to no steps', () => {
    expect(compileSteps([], clusters, catalog)).toEqual([]);
  });

  describe('waves', () => {
    it('a cloud name reaches every cluster of that cloud; a cluster name reaches that cluster', () => {
      expect(compileSteps([{ setWeight: 10, wave: ['aws'] }], clusters, catalog)).toEqual([{ kind: 'setWeight', canaryPercent: 10, wave: ['aws'] }]);
      expect(compileSteps([{ setWeight: 10, wave: ['gke-usc1'] }], clusters, catalog)).toEqual([{ kind: 'setWeight', canaryPercent: 10, wave: ['gke-usc1'] }]);
      expect(compileSteps([{ setWeight: 10, wave: ['eks-use1', 'gcp'] }], clusters, catalog)).toHaveLength(1);
    });

    it('a cloud wave reaches each of its clusters: a later lower weight on one of them is refused', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 50, wave: ['aws'] }, { setWeight: 20, wave: ['eks-usw2'] }], clusters, catalog));
      expect(error).toMatchObject({ field: 'steps[1].setWeight', rule: 'weights-never-decrease' });
      expect(error.message).toContain('eks-usw2');
    });

    it('a cluster wave reaches only that cluster: its cloud sibling may still go lower', () => {
      expect(() => compileSteps([{ setWeight: 50, wave: ['eks-use1'] }, { setWeight: 20, wave: ['eks-usw2'] }], clusters, catalog)).not.toThrow();
    });

    it('an entry that is neither a cloud nor a reachable cluster is refused, naming the entry', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 5 }, { setWeight: 10, wave: ['gcp', 'aks-eu1'] }], clusters, catalog));
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
      const error = validationErrorOf(() => compileSteps([{ setWeight: 50, wave: ['gcp'] }, { setWeight: 25 }], clusters, catalog));
      expect(error).toMatchObject({ field: 'steps[1].setWeight', rule: 'weights-never-decrease' });
      expect(error.message).toContain('gke-usc1');
    });

    it('gcp at 50, then aws at 25: fine, each cluster only goes up', () => {
      expect(() => compileSteps([{ setWeight: 50, wave: ['gcp'] }, { setWeight: 25, wave: ['aws'] }], clusters, catalog)).not.toThrow();
    });

    it('holding a weight, or going to 0 from 0, is not a decrease', () => {
      expect(() => compileSteps([{ setWeight: 0 }, { setWeight: 25 }, { setWeight: 25 }, { setWeight: 100 }], clusters, catalog)).not.toThrow();
    });

    it('pauses and analyses in between do not reset what a cluster was given', () => {
      const steps: WireStep[] = [{ setWeight: 30 }, { pause: { duration: '1m' } }, { analysis: { template: 't', interval: '1m', count: 1 } }, { setWeight: 10 }];
      expect(validationErrorOf(() => compileSteps(steps, clusters, catalog))).toMatchObject({ field: 'steps[3].setWeight', rule: 'weights-never-decrease' });
    });
  });

  describe('analysis templates', () => {
    const analysis = (fields: Record<string, unknown>): WireStep[] => [{ analysis: { interval: '1m', count: 1, ...fields } } as WireStep];

    it('a named template is resolved from the catalog and kept whole: editing crossfade.yaml later never changes the judge', () => {
      const [step] = compileSteps(analysis({ template: 'http-golden-signals' }), clusters, catalog);
      expect(step).toEqual({ kind: 'analysis', template: goldenSignals, intervalSeconds: 60, count: 1 });
    });

    it('a template the catalog does not hold is refused with known-template, naming it and the ones there are', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 5 }, ...analysis({ template: 'http-golden-signal' })], clusters, catalog));
      expect(error).toMatchObject({ field: 'steps[1].analysis.template', rule: 'known-template' });
      expect(error.message).toContain('"http-golden-signal"');
      expect(error.message).toContain('http-golden-signals, t');
    });

    it('with no catalog at all, every template is unknown', () => {
      expect(validationErrorOf(() => compileSteps(analysis({ template: 't' }), clusters))).toMatchObject({ field: 'steps[0].analysis.template', rule: 'known-template' });
    });

    it('inline metrics make an unnamed template, the other fields defaulted as in crossfade.yaml', () => {
      const [step] = compileSteps(analysis({ metrics: [errorRatio] }), clusters, catalog);
      expect(step).toEqual({
        kind: 'analysis',
        template: { name: 'inline', stepSeconds: 10, thresholds: { pass: 95, marginal: 75 }, groupWeights: {}, metrics: [errorRatio] },
        intervalSeconds: 60,
        count: 1,
      });
    });

    it('an analysis with no metrics is refused with metrics-not-empty: it would judge nothing', () => {
      const error = validationErrorOf(() => compileSteps(analysis({ metrics: [] }), clusters, catalog));
      expect(error).toMatchObject({ field: 'steps[0].analysis.metrics', rule: 'metrics-not-empty' });
    });

    it('both a template and inline metrics, or neither, is refused with template-or-metrics', () => {
      expect(validationErrorOf(() => compileSteps(analysis({ template: 't', metrics: [errorRatio] }), clusters, catalog))).toMatchObject({
        field: 'steps[0].analysis',
        rule: 'template-or-metrics',
      });
      expect(validationErrorOf(() => compileSteps(analysis({}), clusters, catalog))).toMatchObject({ field: 'steps[0].analysis', rule: 'template-or-metrics' });
    });

    it('an inline metric naming a provider that is not configured is refused with known-provider, naming the metric', () => {
      const error = validationErrorOf(() => compileSteps(analysis({ metrics: [errorRatio, { ...errorRatio, name: 'latency', provider: 'datadog' }] }), clusters, catalog));
      expect(error).toMatchObject({ field: 'steps[0].analysis.metrics[1].provider', rule: 'known-provider' });
      expect(error.message).toContain('"datadog"');
    });

    it('inline metrics whose query names a placeholder queryFor does not fill are refused with known-placeholders, naming the query', () => {
      const steps: WireStep[] = [{ setWeight: 10 }, { pause: {} }, ...analysis({ metrics: [{ ...errorRatio, query: 'errors{version="{{ver}}"}' }] })];
      const error = validationErrorOf(() => compileSteps(steps, clusters, catalog));
      expect(error).toMatchObject({ field: 'steps[2].analysis.metrics[0].query', rule: 'known-placeholders' });
      expect(error.message).toContain('{{ver}}');
    });
  });

  describe('duration bounds', () => {
    it.each([
      ['1s', 1],
      ['24h', 86_400],
    ])('a pause of %s is within 1s..24h', (text, seconds) => {
      expect(compileSteps([{ pause: { duration: text } }], clusters, catalog)).toEqual([{ kind: 'pause', durationSeconds: seconds }]);
    });

    it('a pause longer than 24h is refused with duration-range', () => {
      const error = validationErrorOf(() => compileSteps([{ setWeight: 5 }, { pause: { duration: '24h1s' } }], clusters, catalog));
      expect(error).toMatchObject({ field: 'steps[1].pause.duration', rule: 'duration-range' });
    });

    it.each([
      ['10s', 10],
      ['1h', 3600],
    ])('an analysis interval of %s is within 10s..1h', (text, seconds) => {
      expect(compileSteps([{ analysis: { template: 't', interval: text, count: 3 } }], clusters, catalog)).toEqual([
        { kind: 'analysis', template: t, intervalSeconds: seconds, count: 3 },
      ]);
    });

    it.each(['9s', '1h1s'])('an analysis interval of %s is refused with duration-range', (text) => {
      const error = validationErrorOf(() => compileSteps([{ analysis: { template: 't', interval: text, count: 3 } }], clusters, catalog));
      expect(error).toMatchObject({ field: 'steps[0].analysis.interval', rule: 'duration-range' });
    });

    it('text that is not a duration is refused with rule duration, naming the field', () => {
      expect(validationErrorOf(() => compileSteps([{ pause: { duration: '5min' } }], clusters, catalog))).toMatchObject({ field: 'steps[0].pause.duration', rule: 'duration' });
      expect(validationErrorOf(() => compileSteps([{ pause: { duration: '0s' } }], clusters, catalog))).toMatchObject({ field: 'steps[0].pause.duration', rule: 'duration' });
      expect(validationErrorOf(() => compileSteps([{ analysis: { template: 't', interval: 'soon', count: 1 } }], clusters, catalog))).toMatchObject({
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
