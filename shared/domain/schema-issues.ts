/**
 * A schema issue (zod's) in words a caller can act on: the field as a dotted path and the rule it
 * broke. zod/mini loads no message catalogue, so the generic cases are phrased here; specific
 * checks carry their own message in the schema.
 */
export interface SchemaIssue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  input?: unknown;
  expected?: unknown;
  keys?: readonly string[];
  values?: readonly unknown[];
}

export interface DescribedIssue {
  /** Dotted path (`steps[2].setWeight`); undefined for the whole document. */
  field: string | undefined;
  message: string;
  rule: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)), '');
}

/** @param prefix a path to put in front of the issue's own (a step validated on its own). */
export function describeIssue(issue: SchemaIssue, prefix = ''): DescribedIssue {
  const join = (path: readonly PropertyKey[]) => {
    const inner = formatPath(path);
    if (!prefix) return inner;
    return inner === '' ? prefix : inner.startsWith('[') ? `${prefix}${inner}` : `${prefix}.${inner}`;
  };
  if (issue.code === 'unrecognized_keys' && issue.keys?.[0] !== undefined) {
    const field = join([...issue.path, issue.keys[0]]);
    return { field, message: `${field} is not a known field`, rule: 'no-unknown-fields' };
  }
  const field = join(issue.path) || undefined;
  const label = field ?? 'the document';
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return { field, message: `${label} is required`, rule: 'required' };
    return { field, message: `${label} must be ${article(String(issue.expected))}, not ${describe(issue.input)}`, rule: 'type' };
  }
  if (issue.code === 'invalid_value' && issue.values) {
    return { field, message: `${label} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, rule: 'enum' };
  }
  if (issue.code === 'invalid_union') return { field, message: `${label} matches none of the allowed shapes`, rule: 'shape' };
  const message = issue.message && issue.message !== 'Invalid input' ? issue.message : 'is not valid';
  return { field, message: `${label} ${message}`, rule: issue.code };
}

function article(expected: string): string {
  const noun = expected === 'int' ? 'whole number' : expected === 'record' ? 'object' : expected;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
