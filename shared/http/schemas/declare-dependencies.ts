/** The body of `PUT /v1/services/{service}/dependencies` (docs/api.md "Dependencies"); the list's rules are domain/dependencies.ts's. */
import * as z from 'zod/mini';
import { reasonField } from './reason.js';
import { parseWith } from './zod-errors.js';

const body = z.strictObject({
  dependencies: z.array(z.string().check(z.maxLength(63, 'must be at most 63 characters'))),
  reason: reasonField,
});

export function parseDeclareDependenciesBody(value: Record<string, unknown>): { dependencies: string[]; reason: string | null } {
  const parsed = parseWith(body, value);
  return { dependencies: parsed.dependencies, reason: parsed.reason ?? null };
}
