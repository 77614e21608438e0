/** Entity tags of status documents and If-None-Match as RFC 9110 §13.1.2 compares them for GET. */
import { describe, expect, it } from 'vitest';
import { entityTag, ifNoneMatchMatches } from '../../../shared/http/etag.js';

describe('entityTag', () => {
  it('is a strong, quoted tag of the exact bytes: one byte more is another tag', () => {
    const tag = entityTag('{"status":"RUNNING"}');
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(entityTag('{"status":"RUNNING"}')).toBe(tag);
    expect(entityTag('{"status":"RUNNING" }')).not.toBe(tag);
  });
});

describe('ifNoneMatchMatches', () => {
  const tag = entityTag('document');

  it.each([
    ['the tag itself', tag],
    ['*', '*'],
    [' * with spaces', '  *  '],
    ['the weak form (weak comparison)', `W/${tag}`],
    ['in a list', `"other", ${tag}`],
    ['weak, in a list without spaces', `"other",W/${tag},"third"`],
    ['after a tag holding a comma', `"a,b", ${tag}`],
  ])('matches %s', (_name, header) => {
    expect(ifNoneMatchMatches(header, tag)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['another tag', '"other"'],
    ['the tag unquoted', tag.slice(1, -1)],
    ['a prefix of the tag', `${tag.slice(0, -2)}"`],
    ['a tag holding a comma, split in two', `"a,${tag.slice(1)}`],
    ['an empty header', ''],
    ['* inside a list (not a tag)', `"other", *`],
  ])('does not match %s', (_name, header) => {
    expect(ifNoneMatchMatches(header, tag)).toBe(false);
  });
});
