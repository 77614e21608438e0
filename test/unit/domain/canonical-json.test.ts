import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/domain/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"e":2,"f":1}]},"b":1}');
  });

  it('prints equal values equally whatever their key order, leaving out undefined as JSON does', () => {
    expect(canonicalJson({ x: 1, y: [2, { q: 1, p: undefined }] })).toBe(canonicalJson({ y: [2, { q: 1 }], x: 1 }));
  });

  it('keeps a "__proto__" key as a key', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":1}'))).toBe('{"__proto__":{"x":1},"a":1}');
  });
});
