/**
 * Request bodies are JSON whatever their Content-Type: Spinnaker's preconfigured webhook stages send
 * their payload as `text/plain;charset=ISO-8859-1` (docs/api.md "Common rules"). An empty
 * body is an empty object. The bytes are decoded by the Content-Type's charset (charset.ts).
 *
 * Before anything else sees a body, one iterative walk refuses what no route accepts and what
 * would hurt the code after it: nesting deeper than MAX_JSON_DEPTH (validators, error formatting
 * and canonical hashing all recurse, and a 100,000-deep array overflows their stack), and keys that
 * name a property of Object.prototype (`__proto__` turns into a prototype when an object is copied
 * key by key; `constructor`, `toString` ... answer `in` checks on every plain object).
 */
import { PayloadTooLargeError, ValidationError } from '../domain/errors.js';
import { formatPath } from '../domain/schema-issues.js';
import { decodeText } from './charset.js';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './types.js';

/** @param contentType the request's Content-Type header, whose `charset` says how to decode the bytes (UTF-8 when it says nothing). */
export function parseJsonBody(body: Buffer | undefined, contentType?: string): Record<string, unknown> {
  if (!body || body.length === 0) return {};
  if (body.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const text = decodeText(body, contentType);
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
  checkShape(value);
  return value as Record<string, unknown>;
}

/** Keys every plain object answers through its prototype: never a field of ours. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

interface Pending {
  value: object;
  depth: number;
  parent: Pending | undefined;
  key: string | number | undefined;
}

/** Walks the parsed document with an explicit stack (no recursion, whatever the depth). */
function checkShape(root: object): void {
  const stack: Pending[] = [{ value: root, depth: 1, parent: undefined, key: undefined }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.depth > MAX_JSON_DEPTH) {
      const field = pathOf(node);
      throw new ValidationError(`${field} nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`, field, 'max-depth');
    }
    const entries: [string | number, unknown][] = Array.isArray(node.value) ? node.value.map((item, index) => [index, item]) : Object.entries(node.value);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && PROTOTYPE_KEYS.has(key)) {
        const field = pathOf({ value: {}, depth: node.depth + 1, parent: node, key });
        throw new ValidationError(`${field}: "${key}" names a property every JavaScript object inherits and is not allowed as a key`, field, 'prototype-key');
      }
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: node.depth + 1, parent: node, key });
    }
  }
}

/** The dotted path of a node (`steps[0].analysis`), built only when a node is refused. */
function pathOf(node: Pending): string {
  const keys: (string | number)[] = [];
  for (let at: Pending | undefined = node; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return formatPath(keys.reverse());
}
