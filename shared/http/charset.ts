/**
 * A request body's bytes as text, decoded by the `charset` of its Content-Type (RFC 9110 §8.3.2).
 *
 * Spinnaker's preconfigured webhook stages send their payload, a string, as
 * `text/plain;charset=ISO-8859-1` unless the stage sets a Content-Type (docs/spinnaker.md). Those
 * bytes are ISO-8859-1 proper: each byte is the code point of the same number, which is what
 * Buffer's 'latin1' decodes. WHATWG's TextDecoder maps every ISO-8859-1 label to windows-1252
 * instead, which turns 0x80-0x9F into other characters (0x80 → "€"), so the ISO-8859-1 labels do
 * not go through it. Any other label is TextDecoder's; one it does not know is a 415 naming it.
 * Bytes that are not valid in the charset are a 400, not replacement characters stored for good.
 */
import { UnsupportedCharsetError, ValidationError } from '../domain/errors.js';

/** IANA's names and aliases of ISO-8859-1 (and US-ASCII, its first half), compared lower-case. */
const LATIN1_LABELS: ReadonlySet<string> = new Set([
  'iso-8859-1',
  'iso8859-1',
  'iso_8859-1',
  'iso_8859-1:1987',
  'iso88591',
  'iso-ir-100',
  'latin1',
  'l1',
  'ibm819',
  'cp819',
  'csisolatin1',
  'us-ascii',
  'ascii',
]);

export function decodeText(body: Buffer, contentType: string | undefined): string {
  const charset = charsetOf(contentType);
  if (charset === undefined) return decodeWith('utf-8', body, 'UTF-8');
  if (LATIN1_LABELS.has(charset.toLowerCase())) return body.toString('latin1');
  return decodeWith(charset, body, charset);
}

/** The `charset` parameter's value, unquoted; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  for (const parameter of contentType.split(';').slice(1)) {
    const equals = parameter.indexOf('=');
    if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue;
    const value = parameter.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1');
    return value === '' ? undefined : value;
  }
  return undefined;
}

function decodeWith(label: string, body: Buffer, named: string): string {
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new UnsupportedCharsetError(named);
  }
  try {
    return decoder.decode(body);
  } catch {
    throw new ValidationError(`body is not valid ${named}`, 'body', 'charset');
  }
}
