/**
 * Request bodies are JSON whatever their Content-Type: Spinnaker's preconfigured webhook stages send
 * their payload as `text/plain;charset=ISO-8859-1` (reference/spinnaker-protocol.md §2.1). An empty
 * body is an empty object.
 */
import { PayloadTooLargeError, ValidationError } from '../domain/errors.js';
import { MAX_BODY_BYTES } from './types.js';

export function parseJsonBody(body: Buffer | undefined): Record<string, unknown> {
  if (!body || body.length === 0) return {};
  if (body.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`body is not valid JSON: ${(error as Error).message}`, undefined, 'json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('body must be a JSON object', undefined, 'json-object');
  }
  return value as Record<string, unknown>;
}
