/** The body of `POST /v1/deployments` and its idempotency key (docs/api.md). */
import { describe, expect, it } from 'vitest';
import { idempotencyKeyOf, inlineMetricsField, parseCreateDeploymentBody, parseIdempotencyKey } from '../../../../shared/http/schemas/create-deployment.js';
import { validationErrorOf } from '../../../support/errors.js';
import { deploymentBody } from '../../../support/requests.js';

const body = deploymentBody;

describe('parseCreateDeploymentBody', () => {
  it("parses docs/api.md's example as it is", () => {
    expect(parseCreateDeploymentBody(body())).toEqual(body());
  });

  it('needs only service, canary and steps', () => {
    const minimal = { service: 'checkout', canary: { version: 'v42' }, steps: [{ setWeight: 100 }] };
    expect(parseCreateDeploymentBody(minimal)).toEqual(minimal);
  });

  it('a canary equal to the baseline is refused: canary.version, canary-differs', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody(body({ canary: { version: 'v41' } })))).toMatchObject({
      field: 'canary.version',
      rule: 'canary-differs',
    });
  });

  it('a missing canary is required', () => {
    const { canary: _canary, ...rest } = body();
    expect(validationErrorOf(() => parseCreateDeploymentBody(rest))).toMatchObject({ field: 'canary', rule: 'required', message: 'canary is required' });
  });

  it.each([
    ['two kinds', { setWeight: 5, pause: {} }],
    ['three kinds', { setWeight: 5, pause: {}, analysis: { template: 't', interval: '1m', count: 1 } }],
    ['no kind', {}],
    ['only an unknown kind', { setWieght: 5 }],
  ])('a step with %s is refused: one-step-kind', (_name, step) => {
    const error = validationErrorOf(() => parseCreateDeploymentBody(body({ steps: [{ setWeight: 5 }, step] })));
    expect(error).toMatchObject({ field: 'steps[1]', rule: 'one-step-kind' });
  });

  it('an unknown field beside a step kind is named', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody(body({ steps: [{ setWeight: 5, wve: ['gcp'] }] })))).toMatchObject({
      field: 'steps[0].wve',
      rule: 'no-unknown-fields',
    });
  });

  it("a step's own fields are checked where they are: a weight above 100", () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody(body({ steps: [{ setWeight: 5 }, { setWeight: 101 }] })))).toMatchObject({ field: 'steps[1].setWeight' });
  });

  it('more than 50 steps are refused; 50 are fine', () => {
    const steps = (n: number) => Array.from({ length: n }, () => ({ setWeight: 5 }));
    expect(parseCreateDeploymentBody(body({ steps: steps(50) })).steps).toHaveLength(50);
    const error = validationErrorOf(() => parseCreateDeploymentBody(body({ steps: steps(51) })));
    expect(error.field).toBe('steps');
    expect(error.message).toContain('at most 50');
  });

  it('no steps are refused', () => {
    const error = validationErrorOf(() => parseCreateDeploymentBody(body({ steps: [] })));
    expect(error.field).toBe('steps');
    expect(error.message).toContain('at least one step');
  });

  it('an unknown field in spinnaker is named', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody(body({ spinnaker: { executionId: 'e', stageid: '3' } })))).toMatchObject({
      field: 'spinnaker.stageid',
      rule: 'no-unknown-fields',
    });
  });

  it('an unknown top-level field is named', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody(body({ canaryVersion: 'v42' })))).toMatchObject({ field: 'canaryVersion', rule: 'no-unknown-fields' });
  });

  it('a cloud outside the closed set is refused', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody(body({ targets: [{ cloud: 'azure', cluster: 'aks-1' }] })))).toMatchObject({
      field: 'targets[0].cloud',
      rule: 'enum',
    });
  });

  it('a service that is not a DNS-1123 label is refused', () => {
    expect(validationErrorOf(() => parseCreateDeploymentBody(body({ service: 'Checkout_API' }))).field).toBe('service');
  });
});

describe('parseIdempotencyKey', () => {
  const spinnaker = { executionId: '01HEXAMPLE', stageId: '3' };

  it('the X-Idempotency-Key header wins over the spinnaker origin', () => {
    expect(parseIdempotencyKey('01HOTHER-7', spinnaker)).toBe('01HOTHER-7');
  });

  it('without the header, it is `${executionId}-${stageId}`', () => {
    expect(parseIdempotencyKey(undefined, spinnaker)).toBe('01HEXAMPLE-3');
  });

  it('without the header and without both ids, there is none', () => {
    expect(parseIdempotencyKey(undefined, undefined)).toBeUndefined();
    expect(parseIdempotencyKey(undefined, { executionId: '01HEXAMPLE' })).toBeUndefined();
    expect(parseIdempotencyKey(undefined, { stageId: '3' })).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['a space', 'exec 3'],
    ['a newline', 'exec\n3'],
    ['a non-ASCII character', 'exécution-3'],
    ['more than 200 characters', 'k'.repeat(201)],
  ])('a header with %s is refused, naming X-Idempotency-Key', (_name, header) => {
    expect(validationErrorOf(() => parseIdempotencyKey(header, spinnaker))).toMatchObject({ field: 'X-Idempotency-Key', rule: 'idempotency-key' });
  });

  it('200 printable characters are a key', () => {
    expect(parseIdempotencyKey('k'.repeat(200), undefined)).toBe('k'.repeat(200));
  });
});

describe('idempotencyKeyOf', () => {
  it("stores the caller's key in its token's namespace", () => {
    expect(idempotencyKeyOf('checkout-pipeline', 'exec-3', undefined)).toEqual({ caller: 'exec-3', stored: 'checkout-pipeline/exec-3' });
    expect(idempotencyKeyOf('admin', undefined, { executionId: '01HEXAMPLE', stageId: '3' })).toEqual({ caller: '01HEXAMPLE-3', stored: 'admin/01HEXAMPLE-3' });
  });

  it('two tokens with one key store two keys', () => {
    expect(idempotencyKeyOf('a', 'k', undefined)!.stored).not.toBe(idempotencyKeyOf('b', 'k', undefined)!.stored);
  });

  it('no key, no namespace', () => {
    expect(idempotencyKeyOf('admin', undefined, undefined)).toBeUndefined();
  });
});

describe('inlineMetricsField', () => {
  const metrics = [{ name: 'errors', provider: 'prometheus', query: 'up' }];

  it('names the first step whose analysis has metrics of its own', () => {
    const steps = [{ setWeight: 5 }, { analysis: { template: 'http-golden-signals', interval: '1m', count: 1 } }, { analysis: { metrics, interval: '1m', count: 1 } }];
    expect(inlineMetricsField(body({ steps }))).toBe('steps[2].analysis.metrics');
  });

  it("names a strategy's analysis", () => {
    expect(inlineMetricsField({ service: 'checkout', canary: { version: 'v2' }, strategy: 'linear-50', analysis: { metrics, interval: '1m', count: 1 } })).toBe('analysis.metrics');
  });

  it('templates only: none', () => {
    expect(inlineMetricsField(body())).toBeUndefined();
  });
});
