/** Request bodies are JSON whatever their Content-Type, decoded by its charset; an empty body is an empty object (docs/api.md). */
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, UnsupportedCharsetError, ValidationError } from '../../../shared/domain/errors.js';
import { parseJsonBody } from '../../../shared/http/body.js';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from '../../../shared/http/types.js';

/** The error parseJsonBody throws for `body`; fails the test when it parses. */
function errorOf(body: Buffer, contentType?: string): unknown {
  try {
    parseJsonBody(body, contentType);
  } catch (error) {
    return error;
  }
  throw new Error('expected parseJsonBody to throw');
}

/** A JSON object of exactly `bytes` bytes. */
function objectOfBytes(bytes: number): Buffer {
  const frame = '{"pad":""}';
  return Buffer.from(`{"pad":"${'x'.repeat(bytes - frame.length)}"}`, 'utf8');
}

describe('parseJsonBody', () => {
  it('the limit is 256 KiB', () => {
    expect(MAX_BODY_BYTES).toBe(262_144);
  });

  it.each([
    ['no body', undefined],
    ['an empty body', Buffer.alloc(0)],
    ['whitespace', Buffer.from(' \r\n\t ')],
  ])('%s is an empty object', (_name, body) => {
    expect(parseJsonBody(body)).toEqual({});
  });

  it('parses a JSON object', () => {
    expect(parseJsonBody(Buffer.from('{"service":"checkout","steps":[{"setWeight":5}]}'))).toEqual({ service: 'checkout', steps: [{ setWeight: 5 }] });
  });

  it('exactly 262,144 bytes of valid JSON are accepted', () => {
    const body = objectOfBytes(MAX_BODY_BYTES);
    expect(body.length).toBe(262_144);
    expect(parseJsonBody(body)).toEqual({ pad: 'x'.repeat(262_144 - 10) });
  });

  it('one byte more is PayloadTooLargeError, before any parsing', () => {
    const error = errorOf(objectOfBytes(MAX_BODY_BYTES + 1));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ limitBytes: 262_144 });
    // Not valid JSON either: the size is checked first.
    expect(errorOf(Buffer.alloc(MAX_BODY_BYTES + 1, '{'))).toBeInstanceOf(PayloadTooLargeError);
  });

  it('bytes are counted, not characters', () => {
    const multiByte = Buffer.from(`{"pad":"${'é'.repeat(MAX_BODY_BYTES / 2)}"}`, 'utf8');
    expect(errorOf(multiByte)).toBeInstanceOf(PayloadTooLargeError);
  });

  it.each(['{"service":', '{service: "checkout"}', "{'a':1}", 'nope', '{"a":1} trailing'])('%j is not JSON: rule json', (text) => {
    const error = errorOf(Buffer.from(text));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ rule: 'json', field: undefined });
  });

  it.each(['[]', '[{"service":"checkout"}]', '42', 'null', '"text"', 'true'])('%s is JSON but not an object: rule json-object', (text) => {
    const error = errorOf(Buffer.from(text));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ rule: 'json-object' });
  });

  it(`nesting ${MAX_JSON_DEPTH} levels deep is accepted, one more is refused naming the path: rule max-depth`, () => {
    // The body is level 1; `a` holds levels 2 .. depth.
    const nested = (depth: number) => Buffer.from(`{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`);
    expect(() => parseJsonBody(nested(MAX_JSON_DEPTH))).not.toThrow();
    const error = errorOf(nested(MAX_JSON_DEPTH + 1));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ rule: 'max-depth', field: `a${'[0]'.repeat(MAX_JSON_DEPTH - 1)}` });
  });

  it('a 100,000-deep array is a ValidationError, not a stack overflow', () => {
    const error = errorOf(Buffer.from(`{"steps":${'['.repeat(100_000)}${']'.repeat(100_000)}}`));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ rule: 'max-depth', field: expect.stringMatching(/^steps(\[0\])+$/) });
  });

  it.each([
    ['{"__proto__":{"admin":true}}', '__proto__'],
    ['{"steps":[{"setWeight":10,"__proto__":{"pause":{}}}]}', 'steps[0].__proto__'],
    ['{"canary":{"constructor":{"prototype":{"x":1}}}}', 'canary.constructor'],
    ['{"analysis":{"groupWeights":{"toString":5}}}', 'analysis.groupWeights.toString'],
    ['{"a":[{"b":{"hasOwnProperty":1}}]}', 'a[0].b.hasOwnProperty'],
  ])('%s: a key Object.prototype has is refused at %s: rule prototype-key', (text, field) => {
    const error = errorOf(Buffer.from(text));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ rule: 'prototype-key', field });
    expect((error as Error).message).toContain(field);
  });

  it('values may be anything: only keys are checked', () => {
    expect(parseJsonBody(Buffer.from('{"reason":"__proto__","steps":["constructor"]}'))).toEqual({ reason: '__proto__', steps: ['constructor'] });
  });
});

describe('parseJsonBody decodes by the Content-Type charset', () => {
  const reason = 'Déploiement à 5 % — ok';

  it('ISO-8859-1 (what Spinnaker preconfigured stages send) is each byte as its own code point', () => {
    const body = Buffer.from(JSON.stringify({ reason: 'Déploiement' }), 'latin1');
    expect(body.includes(0xe9)).toBe(true); // é is one byte, not UTF-8's two
    expect(parseJsonBody(body, 'text/plain;charset=ISO-8859-1')).toEqual({ reason: 'Déploiement' });
    expect(parseJsonBody(body, 'text/plain; Charset="latin1"')).toEqual({ reason: 'Déploiement' });
  });

  it('ISO-8859-1 bytes 0x80-0x9F are the C1 controls, not windows-1252 (WHATWG would make 0x80 "€")', () => {
    const body = Buffer.concat([Buffer.from('{"reason":"'), Buffer.from([0x80, 0x9f]), Buffer.from('"}')]);
    expect(parseJsonBody(body, 'text/plain;charset=iso-8859-1')).toEqual({ reason: '\u0080\u009f' });
  });

  it('UTF-8 when the header names no charset, or none is sent', () => {
    const body = Buffer.from(JSON.stringify({ reason }), 'utf8');
    expect(parseJsonBody(body, 'application/json')).toEqual({ reason });
    expect(parseJsonBody(body)).toEqual({ reason });
    expect(parseJsonBody(body, 'application/json; charset=UTF-8')).toEqual({ reason });
  });

  it('other charsets through TextDecoder (windows-1252, UTF-16LE)', () => {
    const cp1252 = Buffer.concat([Buffer.from('{"reason":"'), Buffer.from([0x80]), Buffer.from('"}')]);
    expect(parseJsonBody(cp1252, 'application/json; charset=windows-1252')).toEqual({ reason: '€' });
    expect(parseJsonBody(Buffer.from(JSON.stringify({ reason }), 'utf16le'), 'application/json; charset=utf-16le')).toEqual({ reason });
  });

  it('an unknown charset is refused naming it (415 UNSUPPORTED_CHARSET)', () => {
    const error = errorOf(Buffer.from('{}'), 'text/plain; charset=klingon');
    expect(error).toBeInstanceOf(UnsupportedCharsetError);
    expect((error as UnsupportedCharsetError).message).toContain('"klingon"');
  });

  it('bytes that are not UTF-8 under UTF-8 are refused, not stored as replacement characters', () => {
    const error = errorOf(Buffer.from(JSON.stringify({ reason: 'Déploiement' }), 'latin1'), 'application/json');
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ message: 'body is not valid UTF-8', field: 'body', rule: 'charset' });
  });
});
