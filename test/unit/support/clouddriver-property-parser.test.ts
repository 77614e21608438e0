/**
 * The Clouddriver log parser the run-job tests read our output with (test/support/
 * clouddriver-property-parser.ts), held to the behaviour of both Clouddriver versions on the cases
 * that decide what a Run Job stage gets: `=` in values, empty values, a malformed CONFIG_JSON line
 * voiding everything, `\r` line ends, keys lower-cased, later keys winning.
 */
import { describe, expect, it } from 'vitest';
import { extractPropertiesFromLog, orcaCapturedOutputs, type ClouddriverVersion } from '../../support/clouddriver-property-parser.js';

const BOTH: ClouddriverVersion[] = ['released', 'main'];

describe.each(BOTH)('Clouddriver (%s) reads a Run Job log', (version) => {
  const parse = (log: string) => extractPropertiesFromLog(log, version);

  it('a property, its key lower-cased and without the marker, its value a trimmed string', () => {
    expect(parse('SPINNAKER_PROPERTY_DEPLOY_ID= dep_1 ')).toEqual({ deploy_id: 'dep_1' });
    expect(parse('SPINNAKER_PROPERTY_COUNT=3')).toEqual({ count: '3' });
  });

  it('the marker is case-sensitive, found anywhere on the line, and what precedes it stays in the key', () => {
    expect(parse('Spinnaker_Property_a=b')).toEqual({});
    expect(parse('echo SPINNAKER_PROPERTY_Foo=bar')).toEqual({ 'echo foo': 'bar' });
  });

  it('\\r line ends (a Windows-style log) and blank lines change nothing', () => {
    expect(parse('SPINNAKER_PROPERTY_MY_PROPERTY=MYVALUE\r\n\r\n  \nSPINNAKER_CONFIG_JSON={"key1":"value1"}\r')).toEqual({ my_property: 'MYVALUE', key1: 'value1' });
  });

  it('an empty value is skipped', () => {
    expect(parse('SPINNAKER_PROPERTY_EMPTY=\nSPINNAKER_PROPERTY_BLANK=   \nSPINNAKER_PROPERTY_NONE')).toEqual({});
  });

  it('CONFIG_JSON: keys keep their case, values their types; only at the start of a line', () => {
    expect(parse('  SPINNAKER_CONFIG_JSON={"deploymentId":"dep_1","weights":{"aws":{"v2":100}},"ok":true,"score":87.5}')).toEqual({
      deploymentId: 'dep_1',
      weights: { aws: { v2: 100 } },
      ok: true,
      score: 87.5,
    });
    expect(parse('log: SPINNAKER_CONFIG_JSON={"a":1}')).toEqual({});
  });

  it('later keys overwrite earlier ones, objects are not merged deeply', () => {
    const log = ['SPINNAKER_PROPERTY_A=from-property', 'SPINNAKER_CONFIG_JSON={"a":1,"o":{"x":1}}', 'SPINNAKER_CONFIG_JSON={"o":{"y":2}}'].join('\n');
    expect(parse(log)).toEqual({ a: 1, o: { y: 2 } });
  });

  it('one malformed CONFIG_JSON line voids the whole log, properties before and after included', () => {
    expect(parse('SPINNAKER_PROPERTY_A=b\nSPINNAKER_CONFIG_JSON={"a": "b}\nSPINNAKER_CONFIG_JSON={"c":1}')).toBeUndefined();
    // A JSON value that is not an object: an array, a string, null (read as null, then putAll fails).
    for (const value of ['[1,2]', '"text"', 'null', '', "{'single':'quotes'}", '{"trailing":1,}']) {
      expect(parse(`SPINNAKER_PROPERTY_A=b\nSPINNAKER_CONFIG_JSON=${value}`), value).toBeUndefined();
    }
  });

  it('text after the object is ignored, as Jackson reads only the first value', () => {
    expect(parse('SPINNAKER_CONFIG_JSON={"a":"}{"} trailing text')).toEqual({ a: '}{' });
    expect(parse('SPINNAKER_CONFIG_JSON={"a":{"b":[1,{"c":"\\"}"}]}}}')).toEqual({ a: { b: [1, { c: '"}' }] } });
  });

  it('a CONFIG_JSON line holding the property marker is read as a property too', () => {
    expect(parse('SPINNAKER_CONFIG_JSON={"note":"SPINNAKER_PROPERTY_X"}')).toEqual({ note: 'SPINNAKER_PROPERTY_X', spinnaker_config_json: '{"note":"SPINNAKER_PROPERTY_X"}' });
    // Escaped, the marker is not on the line; the value parses back to the same text.
    expect(parse('SPINNAKER_CONFIG_JSON={"note":"SPINNAKER_PROPERTY\\u005fX"}')).toEqual({ note: 'SPINNAKER_PROPERTY_X' });
  });
});

describe('where the two Clouddriver versions differ: "=" in a value', () => {
  it('released splits at every "=": a value holding one is dropped, base64 padding is cut off, "==" collapses', () => {
    expect(extractPropertiesFromLog('SPINNAKER_PROPERTY_Q=a=b', 'released')).toEqual({});
    expect(extractPropertiesFromLog('SPINNAKER_PROPERTY_TOKEN=YWJjZA==', 'released')).toEqual({ token: 'YWJjZA' });
    expect(extractPropertiesFromLog('SPINNAKER_PROPERTY_A==b', 'released')).toEqual({ a: 'b' });
  });

  it('main splits at the first "=" only and keeps the rest of the value', () => {
    expect(extractPropertiesFromLog('SPINNAKER_PROPERTY_Q=a=b', 'main')).toEqual({ q: 'a=b' });
    expect(extractPropertiesFromLog('SPINNAKER_PROPERTY_TOKEN=YWJjZA==', 'main')).toEqual({ token: 'YWJjZA==' });
    expect(extractPropertiesFromLog('SPINNAKER_PROPERTY_A==b', 'main')).toEqual({ a: '=b' });
  });
});

describe('what Orca makes of the parse when the Job ends', () => {
  it('a succeeded Job with no properties (none printed, or voided by bad JSON) fails the stage; with some it passes', () => {
    expect(orcaCapturedOutputs('done\n', true, 'released').stageFails).toBe(true);
    expect(orcaCapturedOutputs('SPINNAKER_CONFIG_JSON={bad\n', true, 'released').stageFails).toBe(true);
    expect(orcaCapturedOutputs('SPINNAKER_PROPERTY_A=b\n', true, 'released')).toEqual({ stageFails: false, outputs: { a: 'b' } });
  });

  it('a failed Job fails the stage and keeps its properties when there are any', () => {
    expect(orcaCapturedOutputs('SPINNAKER_CONFIG_JSON={"error":"x"}\n', false, 'main')).toEqual({ stageFails: true, outputs: { error: 'x' } });
  });
});
