/** Analysis metrics' queries: the placeholders queryFor fills in, and the check that a query uses no other (shared/domain/analysis.ts). */
import { describe, expect, it } from 'vitest';
import { checkPlaceholders, queryFor, unknownPlaceholders, type AnalysisMetric } from '../../../shared/domain/analysis.js';
import { validationErrorOf } from '../../support/errors.js';

const metric = (fields: Partial<AnalysisMetric>): AnalysisMetric => ({
  name: 'error-ratio', group: 'errors', provider: 'prometheus', query: 'up', direction: 'increase', critical: false, noData: 'ignore', spreadCheck: false, ...fields,
});

describe('unknownPlaceholders', () => {
  it.each([
    ['no placeholder at all', 'sum(rate(http_requests_total[30s]))', []],
    ['the two known ones, repeated', 'x{service="{{service}}",version="{{version}}"} / y{version="{{version}}"}', []],
    ['a typo', 'x{version="{{ver}}"}', ['{{ver}}']],
    ['spaces inside the braces', 'x{version="{{ version }}"}', ['{{ version }}']],
    ['upper case', 'x{version="{{Version}}"}', ['{{Version}}']],
    ['a Go template action', 'x{version="{{.Version}}"}', ['{{.Version}}']],
    ['a placeholder the judge never fills', 'x{cluster="{{cluster}}",version="{{version}}"}', ['{{cluster}}']],
    ['two unknown ones, each named', '{{svc}} and {{ver}}', ['{{svc}}', '{{ver}}']],
    ['one closing brace missing', 'x{version="{{version}"}', ['{{version}"}']],
    ['never closed', 'x{version="{{version', ['{{version']],
    ['never closed, in a long query', `{{version ${'x'.repeat(30)}`, [`{{version ${'x'.repeat(10)}...`]],
    ['an opening brace too many', 'x{version="{{{version}}"}', ['{{{version}}']],
  ])('%s', (_case, text, expected) => {
    expect(unknownPlaceholders(text)).toEqual(expected);
  });
});

describe('queryFor', () => {
  it('fills {{service}} and {{version}} for the scope, preferring its own query', () => {
    const m = metric({ query: 'a{s="{{service}}",v="{{version}}"}', canaryQuery: 'c{v="{{version}}"}' });

    expect(queryFor(m, 'baseline', { service: 'checkout', version: 'v41' })).toBe('a{s="checkout",v="v41"}');
    expect(queryFor(m, 'canary', { service: 'checkout', version: 'v42' })).toBe('c{v="v42"}');
  });

  it('leaves anything else between braces as it is (the configuration check refuses it first)', () => {
    expect(queryFor(metric({ query: '{{ver}} {{version}}' }), 'canary', { service: 's', version: 'v2' })).toBe('{{ver}} v2');
  });
});

describe('checkPlaceholders', () => {
  it.each([
    ['query', { query: 'x{version="{{ver}}"}' }],
    ['baselineQuery', { baselineQuery: 'x{version="{{baseline}}"}' }],
    ['canaryQuery', { canaryQuery: 'x{version="{{canary}}"}' }],
  ] as const)('a typo in %s names that field, with rule known-placeholders and the placeholders there are', (key, fields) => {
    const error = validationErrorOf(() => checkPlaceholders(metric(fields), 'steps[2].analysis.metrics[0]'));

    expect(error).toMatchObject({ field: `steps[2].analysis.metrics[0].${key}`, rule: 'known-placeholders' });
    expect(error.message).toContain(unknownPlaceholders(fields[key as keyof typeof fields]!)[0]);
    expect(error.message).toContain('{{service}} and {{version}}');
  });

  it('accepts a metric whose every query uses only known placeholders', () => {
    expect(() => checkPlaceholders(metric({ query: '{{service}}', baselineQuery: '{{version}}', canaryQuery: 'up' }), 'm')).not.toThrow();
  });
});
