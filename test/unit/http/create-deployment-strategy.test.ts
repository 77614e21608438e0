/** `strategy` instead of `steps` in POST /v1/deployments: exactly one of them, analysis only with a strategy. */
import { describe, expect, it } from 'vitest';
import { parseCreateDeploymentBody } from '../../../shared/http/schemas/create-deployment.js';
import { validationErrorOf } from '../../support/errors.js';

const base = { service: 'checkout', canary: { version: 'v42' } };

describe('POST /v1/deployments: strategy', () => {
  it('a named strategy becomes its steps, with the analysis between the traffic steps', () => {
    const body = parseCreateDeploymentBody({ ...base, strategy: 'canary-5-25-50-100', analysis: { template: 'http-golden-signals', interval: '1m', count: 2 } });
    expect(body.steps.filter((s) => 'setWeight' in s)).toEqual([{ setWeight: 5 }, { setWeight: 25 }, { setWeight: 50 }, { setWeight: 100 }]);
    expect(body.steps[1]).toEqual({ analysis: { template: 'http-golden-signals', interval: '1m', count: 2 } });
    expect(body).not.toHaveProperty('strategy');
  });

  it('both steps and strategy: refused, naming the rule', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody({ ...base, strategy: 'blue-green', steps: [{ setWeight: 100 }] }))).toMatchObject({ field: 'strategy', rule: 'steps-or-strategy' });
  });

  it('neither: refused, naming steps', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody(base))).toMatchObject({ field: 'steps', rule: 'steps-or-strategy' });
  });

  it('an unknown strategy: refused, naming strategy', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody({ ...base, strategy: 'yolo' }))).toMatchObject({ field: 'strategy', rule: 'known-strategy' });
  });

  it('analysis without a strategy: refused', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody({ ...base, steps: [{ setWeight: 100 }], analysis: { template: 't', interval: '1m', count: 1 } }))).toMatchObject({ field: 'analysis', rule: 'analysis-with-strategy' });
  });
});
