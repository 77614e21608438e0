/** The query parameters of a paged listing (docs/api.md "Listing"): `limit` 1-100 (50 by default), `cursor`, and the listing's own filters; anything else is refused. */
import { ValidationError } from '../domain/errors.js';

export function parsePageQuery(query: Record<string, string>, filters: readonly string[] = [], defaultLimit = 50): { limit: number; cursor: string | undefined } {
  const known = [...filters, 'limit', 'cursor'];
  const unknown = Object.keys(query).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new ValidationError(`query parameter ${unknown} is not known (use ${known.join(', ')})`, unknown, 'no-unknown-fields');
  const limit = query['limit'] === undefined ? defaultLimit : Number(query['limit']);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ValidationError('limit must be a whole number from 1 to 100', 'limit', 'range');
  return { limit, cursor: query['cursor'] };
}
