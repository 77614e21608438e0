/**
 * JSON with object keys sorted at every depth, so equal values print equally whatever their key
 * order (stores such as DynamoDB do not keep the order a map was written in).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortedKeys) ?? 'null';
}

/** JSON.stringify's replacer sees every object before it is written: hand it the keys in order. */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  // No prototype: a "__proto__" key from a request stays a key instead of becoming one.
  const sorted: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return sorted;
}
