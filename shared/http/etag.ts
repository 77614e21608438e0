/**
 * Entity tags for documents that change without a version of their own (RFC 9110 §8.8.3, §13.1.2).
 *
 * A deployment's status document carries a retry note written without a new deployment version
 * (ports/deployment-store.ts noteRetry), so the version alone cannot tag it: the tag is a digest of
 * the exact bytes the answer would carry. It is strong: the same tag means the same bytes.
 */
import { createHash } from 'node:crypto';

/** A strong entity tag of `body`: `"` + 128 bits of its sha256, base64url + `"`. */
export function entityTag(body: string): string {
  return `"${createHash('sha256').update(body, 'utf8').digest('base64url').slice(0, 22)}"`;
}

/**
 * Whether `If-None-Match` (a header value, repeated headers joined with ", ") names `etag`: `*`
 * (the resource exists, which it does when this is asked), or a list of entity tags compared weakly
 * as GET requires, so `W/"x"` matches `"x"`. Entries that are not entity tags are ignored.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  // An entity tag may hold a comma, so the list is read tag by tag, not split on commas.
  for (const [, tag] of header.matchAll(/(?:^|,)\s*(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?=,|$)/g)) {
    if (tag === opaque) return true;
  }
  return false;
}
