/**
 * Clouddriver's reading of a Run Job's log (its PropertyParser, which Orca's "Capture Output From:
 * Logs" relies on), rebuilt to the letter so tests read our output as Spinnaker does
 * (docs/spinnaker-run-job.md "What Spinnaker reads"):
 *
 * - The log is split on "\n"; each line is trimmed (Guava's notion of whitespace, so a trailing "\r"
 *   goes) and blank lines are skipped.
 * - A line containing `SPINNAKER_PROPERTY_` anywhere is a property. `released` (Clouddriver up to
 *   2026.2) splits it at every `=`, trims the parts, drops empty ones, and keeps the line only if
 *   exactly two parts remain: a value holding `=` is lost, `a==b` reads as `b`, an empty value is
 *   lost. `main` (since 2026-07-27) splits at the first `=` only and still skips an empty value.
 *   The key is the first part with the first `SPINNAKER_PROPERTY_` removed, lower-cased (whatever
 *   came before the marker stays in it); the value is a string.
 * - A line starting with `SPINNAKER_CONFIG_JSON=` (the same line may also count as a property) has
 *   the rest read by Jackson as a map: a JSON object whose keys and typed values are merged; text
 *   after the object is ignored (Jackson does not look past the first value). Anything else — not
 *   an object, `null`, malformed — throws, and Clouddriver then answers no properties at all for
 *   the whole log: `undefined` here.
 * - Later keys overwrite earlier ones; nothing is merged deeply.
 */
export type ClouddriverVersion = 'released' | 'main';

const PROPERTY_MARKER = 'SPINNAKER_PROPERTY_';
const CONFIG_JSON_MARKER = 'SPINNAKER_CONFIG_JSON=';
/** Java's `^\s*` is ASCII whitespace; the line is trimmed already, so this only documents the rule. */
const CONFIG_JSON_LINE = /^[ \t\n\v\f\r]*SPINNAKER_CONFIG_JSON=/;
/** Guava's CharMatcher.whitespace(): Unicode White_Space (with U+0085, without U+FEFF, unlike String.prototype.trim). */
const GUAVA_WHITESPACE = '\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const TRIM = new RegExp(`^[${GUAVA_WHITESPACE}]+|[${GUAVA_WHITESPACE}]+$`, 'g');

/** The properties Clouddriver extracts from `log`; undefined when a CONFIG_JSON line voids them all. */
export function extractPropertiesFromLog(log: string, version: ClouddriverVersion): Record<string, unknown> | undefined {
  const properties = new Map<string, unknown>();
  for (const line of log.split('\n').map(guavaTrim).filter((l) => l !== '')) {
    if (line.includes(PROPERTY_MARKER)) {
      const parts = version === 'released' ? splitEveryEquals(line) : splitFirstEquals(line);
      if (parts !== undefined) properties.set(parts[0].replace(PROPERTY_MARKER, '').toLowerCase(), parts[1]);
    }
    if (CONFIG_JSON_LINE.test(line)) {
      const object = readJacksonMap(line.replace(CONFIG_JSON_MARKER, ''));
      if (object === undefined) return undefined;
      for (const [key, value] of Object.entries(object)) properties.set(key, value);
    }
  }
  return Object.fromEntries(properties);
}

/**
 * What Orca makes of it once the Job ended: a succeeded Job whose log has no properties fails the
 * stage ("Expected properties file … missing, empty or contained invalid syntax"); a failed Job's
 * properties are kept when there are any.
 */
export function orcaCapturedOutputs(log: string, jobSucceeded: boolean, version: ClouddriverVersion): { stageFails: boolean; outputs: Record<string, unknown> } {
  const outputs = extractPropertiesFromLog(log, version) ?? {};
  const none = Object.keys(outputs).length === 0;
  return { stageFails: !jobSucceeded || none, outputs };
}

function guavaTrim(text: string): string {
  return text.replace(TRIM, '');
}

/** Released: `Splitter.on("=").omitEmptyStrings().trimResults()`, exactly two parts or nothing. */
function splitEveryEquals(line: string): [string, string] | undefined {
  const parts = line
    .split('=')
    .map(guavaTrim)
    .filter((part) => part !== '');
  return parts.length === 2 ? [parts[0]!, parts[1]!] : undefined;
}

/** main: `Splitter.on("=").limit(2).trimResults()`, two parts and a non-empty value, or nothing. */
function splitFirstEquals(line: string): [string, string] | undefined {
  const at = line.indexOf('=');
  if (at < 0) return undefined;
  const value = guavaTrim(line.slice(at + 1));
  return value === '' ? undefined : [guavaTrim(line.slice(0, at)), value];
}

/**
 * Jackson's `readValue(text, Map)` with its defaults: leading whitespace skipped, the first value
 * read and the rest ignored; that value must be an object (strict JSON: no comments, no single
 * quotes, no trailing commas — what JSON.parse also refuses). `null` reads as null, which
 * Clouddriver's putAll then fails on: undefined too.
 */
function readJacksonMap(text: string): Record<string, unknown> | undefined {
  const start = text.search(/[^ \t\r\n]/);
  if (start < 0 || text[start] !== '{') return undefined;
  const end = endOfObject(text, start);
  if (end === undefined) return undefined;
  try {
    return JSON.parse(text.slice(start, end)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The index just past the object opening at `start` (strings and escapes respected); undefined if it never closes. */
function endOfObject(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}
