/** The status document's plan and hold (docs/api.md): what the watch draws, kept small for Spinnaker's execution context. */
import { describe, expect, it } from 'vitest';
import type { AnalysisMetric, AnalysisTemplate } from '../../../shared/domain/analysis.js';
import { revise } from '../../../shared/domain/deployment.js';
import { holdOpened } from '../../../shared/domain/lifecycle.js';
import { statusDocument } from '../../../shared/http/status-document.js';
import { makeDeployment, T0 } from '../../support/deployments.js';

const template: AnalysisTemplate = {
  name: 'golden',
  stepSeconds: 10,
  thresholds: { pass: 95, marginal: 75 },
  groupWeights: {},
  metrics: [{ name: 'error-ratio', provider: 'prom', query: 'sum(rate(http_errors_total{service="{{service}}"}[1m]))' } as AnalysisMetric],
};

const deployment = makeDeployment({
  steps: [
    { kind: 'setWeight', canaryPercent: 5, wave: ['gcp'] },
    { kind: 'pause', durationSeconds: 300 },
    { kind: 'analysis', template, intervalSeconds: 60, count: 5 },
    { kind: 'pause', durationSeconds: null },
    { kind: 'setWeight', canaryPercent: 100, wave: null },
  ],
});
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('the status document', () => {
  it('carries the plan step by step, an analysis by its template name only', () => {
    const doc = statusDocument(deployment, 'https://crossfade.test');
    expect(doc.plan).toEqual([
      { kind: 'setWeight', canaryPercent: 5, wave: ['gcp'] },
      { kind: 'pause', durationSeconds: 300 },
      { kind: 'analysis', template: 'golden', intervalSeconds: 60, count: 5 },
      { kind: 'pause', durationSeconds: null },
      { kind: 'setWeight', canaryPercent: 100, wave: null },
    ]);
    expect(JSON.stringify(doc)).not.toContain('http_errors_total');
    expect(doc.hold).toBeNull();
  });

  it('says when a timed hold ends, that a gate has no end, and nothing of a hold left from an earlier step', () => {
    const pausing = revise(deployment, { phase: 'PAUSED', stepIndex: 1 }, at(10));
    const waiting = holdOpened(pausing, { token: 'tok-1', kind: 'wait', seconds: 300 }, at(20));
    expect(statusDocument(waiting, 'https://crossfade.test').hold).toEqual({ kind: 'wait', since: at(20).toISOString(), until: at(320).toISOString() });

    const atGate = holdOpened(revise(deployment, { phase: 'PAUSED', stepIndex: 3 }, at(400)), { token: 'tok-2', kind: 'gate', seconds: 3600 }, at(401));
    expect(statusDocument(atGate, 'https://crossfade.test').hold).toEqual({ kind: 'gate', since: at(401).toISOString(), until: null });

    const movedOn = revise(waiting, { stepIndex: 2, phase: 'ANALYZING' }, at(330));
    expect(statusDocument(movedOn, 'https://crossfade.test').hold).toBeNull();
  });
});
