/** zod's first issue as a ValidationError that names the field and says the rule in words. */
import type { z } from 'zod';
import { formatPath } from '../../domain/config.js';
import { ValidationError } from '../../domain/errors.js';

export function validationErrorFrom(error: z.ZodError, prefix = ''): ValidationError {
  const issue = error.issues[0]!;
  const join = (path: readonly PropertyKey[]) => {
    const inner = formatPath(path);
    if (!prefix) return inner;
    return inner === '' ? prefix : inner.startsWith('[') ? `${prefix}${inner}` : `${prefix}.${inner}`;
  };
  if (issue.code === 'unrecognized_keys') {
    const field = join([...issue.path, issue.keys[0]!]);
    return new ValidationError(`${field} is not a known field`, field, 'no-unknown-fields');
  }
  const field = join(issue.path);
  const label = field || 'body';
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return new ValidationError(`${label} is required`, field || undefined, 'required');
  }
  return new ValidationError(`${label} ${issue.message}`, field || undefined, issue.code);
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, prefix = ''): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationErrorFrom(result.error, prefix);
  return result.data;
}
