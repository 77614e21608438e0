/** A schema issue in words a caller can act on (shared/domain/schema-issues.ts). */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { describeIssue, formatPath, type SchemaIssue } from '../../../shared/domain/schema-issues.js';

describe('formatPath', () => {
  it('dots names and brackets indices', () => {
    expect(formatPath(['steps', 2, 'setWeight'])).toBe('steps[2].setWeight');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath([])).toBe('');
  });
});

describe('describeIssue', () => {
  it('a missing value is "required"', () => {
    const issue: SchemaIssue = { code: 'invalid_type', path: ['canary', 'version'], message: 'Invalid input', expected: 'string', input: undefined };
    expect(describeIssue(issue)).toEqual({ field: 'canary.version', message: 'canary.version is required', rule: 'required' });
  });

  it('a value of the wrong type says what it must be and what it is', () => {
    const issue: SchemaIssue = { code: 'invalid_type', path: ['steps', 0, 'setWeight'], message: 'Invalid input', expected: 'number', input: '5' };
    expect(describeIssue(issue)).toEqual({ field: 'steps[0].setWeight', message: 'steps[0].setWeight must be a number, not a string', rule: 'type' });
  });

  it('uses "an" before a vowel and names arrays, null and objects', () => {
    expect(describeIssue({ code: 'invalid_type', path: ['a'], message: '', expected: 'object', input: [] }).message).toBe('a must be an object, not an array');
    expect(describeIssue({ code: 'invalid_type', path: ['a'], message: '', expected: 'array', input: null }).message).toBe('a must be an array, not null');
    expect(describeIssue({ code: 'invalid_type', path: ['a'], message: '', expected: 'int', input: {} }).message).toBe('a must be a whole number, not an object');
  });

  it('a wrong type at the root names "the document" and has no field', () => {
    expect(describeIssue({ code: 'invalid_type', path: [], message: '', expected: 'object', input: 3 })).toEqual({
      field: undefined,
      message: 'the document must be an object, not a number',
      rule: 'type',
    });
  });

  it('an unrecognized key names the key itself, under the prefix', () => {
    const issue: SchemaIssue = { code: 'unrecognized_keys', path: ['pause'], message: 'Unrecognized key', keys: ['durration'] };
    expect(describeIssue(issue, 'steps[1]')).toEqual({
      field: 'steps[1].pause.durration',
      message: 'steps[1].pause.durration is not a known field',
      rule: 'no-unknown-fields',
    });
  });

  it('a prefix is joined without a dot before an index, and alone for the root', () => {
    expect(describeIssue({ code: 'invalid_type', path: [0], message: '', expected: 'string', input: 1 }, 'steps[0].wave').field).toBe('steps[0].wave[0]');
    expect(describeIssue({ code: 'invalid_type', path: [], message: '', expected: 'object', input: 1 }, 'steps[3]').field).toBe('steps[3]');
  });

  it('a value outside an enum lists the allowed values', () => {
    const issue: SchemaIssue = { code: 'invalid_value', path: ['targets', 0, 'cloud'], message: 'Invalid option', values: ['aws', 'gcp'], input: 'azure' };
    expect(describeIssue(issue)).toEqual({ field: 'targets[0].cloud', message: 'targets[0].cloud must be one of "aws", "gcp"', rule: 'enum' });
  });

  it("a check's own message is kept, and the rule is the issue's code", () => {
    const issue: SchemaIssue = { code: 'too_big', path: ['steps'], message: 'must list at most 50 steps' };
    expect(describeIssue(issue)).toEqual({ field: 'steps', message: 'steps must list at most 50 steps', rule: 'too_big' });
  });

  it("zod's own generic message is not passed on", () => {
    expect(describeIssue({ code: 'custom', path: ['x'], message: 'Invalid input' }).message).toBe('x is not valid');
  });

  it('describes the issues zod/mini really produces', () => {
    const schema = z.strictObject({ count: z.number(), cloud: z.enum(['aws', 'gcp']) });
    const first = (value: unknown) => describeIssue(schema.safeParse(value, { reportInput: true }).error!.issues[0]!);
    expect(first({ cloud: 'aws' })).toMatchObject({ field: 'count', rule: 'required' });
    expect(first({ count: '1', cloud: 'aws' })).toMatchObject({ field: 'count', message: 'count must be a number, not a string', rule: 'type' });
    expect(first({ count: 1, cloud: 'azure' })).toMatchObject({ field: 'cloud', rule: 'enum' });
    expect(first({ count: 1, cloud: 'aws', extra: true })).toMatchObject({ field: 'extra', message: 'extra is not a known field' });
  });
});
