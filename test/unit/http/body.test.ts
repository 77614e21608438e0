/** Request bodies are JSON whatever their Content-Type; an empty body is an empty object (API.md). */
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '../../../shared/domain/errors.js';
import { parseJsonBody } from '../../../shared/http/body.js';
import { MAX_BODY_BYTES } from '../../../shared/http/types.js';

/** The error parseJsonBody throws for `body`; fails the test when it parses. */
function errorOf(body: Buffer): unknown {
  try {
    parseJsonBody(body);
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
});
