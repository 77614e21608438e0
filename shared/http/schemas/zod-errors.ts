/** Parses with a zod schema, turning the first issue into a ValidationError naming the field and rule. */
import type * as z from 'zod/mini';
import { ValidationError } from '../../domain/errors.js';
import { describeIssue } from '../../domain/schema-issues.js';

export function parseWith<T extends z.ZodMiniType>(schema: T, value: unknown, prefix = ''): z.infer<T> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const { field, message, rule } = describeIssue(result.error.issues[0]!, prefix);
  throw new ValidationError(message, field, rule);
}
