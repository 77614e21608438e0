/**
 * What `crossfade deploy --wait --spinnaker-output` prints for Spinnaker's Run Job stage, read back
 * with Clouddriver's parser (both versions): one CONFIG_JSON object with the deployment, its final
 * weights, result and judgment scores; properties only for values every version reads unchanged;
 * a termination message on every failed end and none on success. Deployments are made and ended by
 * the domain's own lifecycle functions.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configJsonLine, isPortablePropertyValue, propertyLines, spinnakerOutputLines, terminationMessage, truncateUtf8, TERMINATION_MESSAGE_MAX_BYTES } from '../../../cli/spinnaker-output-format.js';
import { writeSpinnakerOutputs } from '../../../cli/spinnaker-output.js';
import { DependencyUnavailableError } from '../../../shared/domain/errors.js';
import type { Deployment, JudgmentSummary } from '../../../shared/domain/deployment.js';
import { finished, judged, rollbackDecided } from '../../../shared/domain/lifecycle.js';
import { statusDocument, type StatusDocument } from '../../../shared/http/status-document.js';
import { extractPropertiesFromLog, type ClouddriverVersion } from '../../support/clouddriver-property-parser.js';
import { makeDeployment, T0 } from '../../support/deployments.js';

const BASE_URL = 'https://crossfade.example.com';
const BOTH: ClouddriverVersion[] = ['released', 'main'];

function judgment(stepIndex: number, run: number, score: number, classification: JudgmentSummary['classification']): JudgmentSummary {
  return { stepIndex, run, at: T0.toISOString(), score, classification, reason: classification === 'Fail' ? 'error-ratio: High' : null };
}

function analysed(d: Deployment, judgments: [JudgmentSummary, boolean][]): Deployment {
  return judgments.reduce((next, [j, pass]) => judged(next, j, { pass, reason: pass ? '' : `analysis ${j.stepIndex + 1} failed: ${j.reason}` }, T0), d);
}

const steps: Deployment['steps'] = [
  { kind: 'setWeight', canaryPercent: 20, wave: null },
  { kind: 'analysis', template: { name: 'golden', metrics: [] } as never, intervalSeconds: 60, count: 2 },
  { kind: 'setWeight', canaryPercent: 100, wave: null },
  { kind: 'analysis', template: { name: 'golden', metrics: [] } as never, intervalSeconds: 60, count: 1 },
];

function promotedDoc(): StatusDocument {
  const d = analysed(makeDeployment({ steps }), [
    [judgment(1, 1, 100, 'Pass'), true],
    [judgment(1, 2, 87.5, 'Pass'), true],
    [judgment(3, 1, 95, 'Pass'), true],
  ]);
  return statusDocument(finished(d, { aws: { 'v1.4.0': 0, 'v1.5.0': 100 }, gcp: { 'v1.4.0': 0, 'v1.5.0': 100 } }, T0), BASE_URL);
}

function rolledBackDoc(): StatusDocument {
  const d = analysed(makeDeployment({ steps }), [
    [judgment(1, 1, 100, 'Pass'), true],
    [judgment(1, 2, 0, 'Fail'), false],
  ]);
  return statusDocument(finished(d, { aws: { 'v1.4.0': 100, 'v1.5.0': 0 } }, T0), BASE_URL);
}

function canceledDoc(): StatusDocument {
  const d = rollbackDecided(makeDeployment({ steps }), 'canceled by spinnaker', 'CANCELED', T0, 'spinnaker');
  return statusDocument(finished(d, { aws: { 'v1.4.0': 100, 'v1.5.0': 0 } }, T0), BASE_URL);
}

function parsed(lines: string[], version: ClouddriverVersion): Record<string, unknown> {
  const outputs = extractPropertiesFromLog(['some progress line', ...lines, ''].join('\n'), version);
  expect(outputs).toBeDefined();
  return outputs!;
}

/** An error as the CLI's ApiError carries an API refusal. */
function apiError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'ApiError', statusCode, code });
}

describe('the outputs of a deployment followed to its end', () => {
  it.each(BOTH)('promoted: Clouddriver (%s) reads id, status, final weights, result and the scores per analysis', (version) => {
    const doc = promotedDoc();
    const lines = spinnakerOutputLines(doc, undefined);
    expect(lines.filter((line) => line.startsWith('SPINNAKER_CONFIG_JSON='))).toHaveLength(1);
    const outputs = parsed(lines, version);
    expect(outputs).toMatchObject({
      deploymentId: doc.id,
      service: 'checkout',
      baseline: 'v1.4.0',
      canary: 'v1.5.0',
      status: 'SUCCEEDED',
      phase: 'SUCCEEDED',
      statusUrl: `${BASE_URL}/v1/deployments/${doc.id}`,
      weights: { aws: { 'v1.4.0': 0, 'v1.5.0': 100 }, gcp: { 'v1.4.0': 0, 'v1.5.0': 100 } },
      canaryPercent: { aws: 100, gcp: 100 },
      result: { outcome: 'promoted', reason: 'every step passed: v1.5.0 serves 100%' },
      analyses: [
        { stepIndex: 1, scores: [100, 87.5], classifications: ['Pass', 'Pass'] },
        { stepIndex: 3, scores: [95], classifications: ['Pass'] },
      ],
    });
    // Weights and judgments are given once, not again inside result.
    expect(outputs['result']).not.toHaveProperty('weights');
    expect(outputs['result']).not.toHaveProperty('judgments');
    expect(outputs).not.toHaveProperty('error');
    // The simple values also as properties, under keys that overwrite none of the object's.
    expect(outputs).toMatchObject({
      crossfade_deployment_id: doc.id,
      crossfade_service: 'checkout',
      crossfade_status: 'SUCCEEDED',
      crossfade_phase: 'SUCCEEDED',
      crossfade_outcome: 'promoted',
      crossfade_canary: 'v1.5.0',
      crossfade_baseline: 'v1.4.0',
      crossfade_canary_percent_aws: '100',
      crossfade_canary_percent_gcp: '100',
    });
    expect(terminationMessage(doc, undefined)).toBeUndefined();
  });

  it.each(BOTH)('rolled back: TERMINAL with the failing score and the reason, for Clouddriver (%s) and the termination message', (version) => {
    const doc = rolledBackDoc();
    const outputs = parsed(spinnakerOutputLines(doc, undefined), version);
    expect(outputs).toMatchObject({
      status: 'TERMINAL',
      phase: 'ROLLED_BACK',
      weights: { aws: { 'v1.4.0': 100, 'v1.5.0': 0 } },
      canaryPercent: { aws: 0 },
      result: { outcome: 'rolled back', reason: 'analysis 2 failed: error-ratio: High' },
      analyses: [{ stepIndex: 1, scores: [100, 0], classifications: ['Pass', 'Fail'] }],
      crossfade_status: 'TERMINAL',
      crossfade_outcome: 'rolled back',
      crossfade_canary_percent_aws: '0',
    });
    expect(terminationMessage(doc, undefined)).toBe(`deployment ${doc.id} of checkout ended TERMINAL (ROLLED_BACK): analysis 2 failed: error-ratio: High`);
  });

  it('canceled: CANCELED, who asked in the result and in the termination message', () => {
    const doc = canceledDoc();
    expect(parsed(spinnakerOutputLines(doc, undefined), 'released')).toMatchObject({ status: 'CANCELED', result: { outcome: 'canceled', requestedBy: 'spinnaker' }, analyses: [] });
    expect(terminationMessage(doc, undefined)).toBe(`deployment ${doc.id} of checkout ended CANCELED (CANCELED): canceled by spinnaker`);
  });

  it('no longer followed while still RUNNING (a --timeout): the document as it was, a failed end, result null', () => {
    const doc = statusDocument(makeDeployment(), BASE_URL);
    expect(parsed(spinnakerOutputLines(doc, undefined), 'main')).toMatchObject({ status: 'NOT_STARTED', result: null, analyses: [], weights: {} });
    expect(terminationMessage(doc, undefined)).toBe(`stopped following deployment ${doc.id} of checkout while NOT_STARTED: ${doc.progress}`);
  });

  it('a baseline not resolved yet (null) is in the object and left out of the properties (an empty value is dropped anyway)', () => {
    const doc = statusDocument(makeDeployment({ baseline: null }), BASE_URL);
    const lines = spinnakerOutputLines(doc, undefined);
    expect(lines.some((line) => line.includes('CROSSFADE_BASELINE'))).toBe(false);
    expect(parsed(lines, 'released')).toMatchObject({ baseline: null });
  });
});

describe('the outputs of a command that failed', () => {
  it.each(BOTH)('refused by the API (403): the error with status and code for Clouddriver (%s), no deployment fields', (version) => {
    const failure = apiError(403, 'FORBIDDEN', 'token spinnaker may not deploy payments (scope deploy:checkout*)');
    const outputs = parsed(spinnakerOutputLines(undefined, failure), version);
    expect(outputs).toEqual({
      error: { name: 'ApiError', message: 'token spinnaker may not deploy payments (scope deploy:checkout*)', statusCode: 403, code: 'FORBIDDEN' },
      crossfade_error: 'FORBIDDEN',
    });
    expect(terminationMessage(undefined, failure)).toBe('crossfade deploy failed: token spinnaker may not deploy payments (scope deploy:checkout*) (HTTP 403 FORBIDDEN)');
  });

  it('unreachable while following: the last document seen and the error; the message names both', () => {
    const doc = statusDocument(makeDeployment(), BASE_URL);
    const failure = new DependencyUnavailableError(BASE_URL, 'GET /v1/deployments', { cause: new Error('connect ECONNREFUSED') });
    const outputs = parsed(spinnakerOutputLines(doc, failure), 'released');
    expect(outputs).toMatchObject({ deploymentId: doc.id, error: { name: 'DependencyUnavailableError' }, crossfade_error: 'DependencyUnavailableError' });
    expect(terminationMessage(doc, failure)).toBe(`crossfade deploy failed following deployment ${doc.id} of checkout: ${failure.message}`);
  });

  it('only the first line of a multi-line error message', () => {
    const outputs = parsed(spinnakerOutputLines(undefined, new Error('first line\nsecond line')), 'main');
    expect(outputs['error']).toEqual({ name: 'Error', message: 'first line' });
  });
});

describe('text that would break or change the parse', () => {
  it('a reason holding "=", line breaks, quotes and the property marker: one CONFIG_JSON line, read back exactly by both versions', () => {
    const reason = 'rollback=yes\r\nquoted "x" SPINNAKER_PROPERTY_EVIL=1 and SPINNAKER_CONFIG_JSON={"a":1}';
    const doc = { ...rolledBackDoc(), result: { outcome: 'rolled back', reason, weights: {}, judgments: [] } };
    const lines = spinnakerOutputLines(doc, undefined);
    expect(lines.join('\n').split('\n')).toHaveLength(lines.length);
    expect(lines[0]).not.toContain('SPINNAKER_PROPERTY_');
    for (const version of BOTH) {
      const outputs = parsed(lines, version);
      expect((outputs['result'] as Record<string, unknown>)['reason']).toBe(reason);
      expect(Object.keys(outputs).filter((key) => !key.startsWith('crossfade_')).sort()).toEqual(
        ['analyses', 'baseline', 'canary', 'canaryPercent', 'deploymentId', 'phase', 'progress', 'result', 'service', 'status', 'statusUrl', 'weights'].sort(),
      );
    }
  });

  it('configJsonLine escapes only the marker: the text parses back unchanged', () => {
    const value = { note: 'SPINNAKER_PROPERTY_A and SPINNAKER_PROPERTY_B', SPINNAKER_PROPERTY_KEY: 1 };
    const line = configJsonLine(value);
    expect(line).not.toContain('SPINNAKER_PROPERTY_');
    expect(JSON.parse(line.slice('SPINNAKER_CONFIG_JSON='.length))).toEqual(value);
  });

  it('a property value is printed only when every version reads it back unchanged', () => {
    const values = ['dep_01J', 'rolled back', 'v1.5.0', '', ' padded', 'padded ', 'a=b', 'YWJjZA==', 'two\nlines', 'cr\r'];
    expect(values.filter(isPortablePropertyValue)).toEqual(['dep_01J', 'rolled back', 'v1.5.0']);
    const lines = propertyLines(Object.fromEntries(values.map((value, i) => [`k${i}`, value])));
    for (const version of BOTH) {
      expect(extractPropertiesFromLog(lines.join('\n'), version)).toEqual({ k0: 'dep_01J', k1: 'rolled back', k2: 'v1.5.0' });
    }
  });
});

describe('the termination message', () => {
  it('is cut at a character boundary to at most TERMINATION_MESSAGE_MAX_BYTES of UTF-8, under the 4096 bytes Kubernetes keeps', () => {
    const doc = { ...rolledBackDoc(), result: { outcome: 'rolled back', reason: 'é'.repeat(3000) } };
    const message = terminationMessage(doc, undefined)!;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(TERMINATION_MESSAGE_MAX_BYTES);
    expect(message.endsWith('é…')).toBe(true);
    expect(TERMINATION_MESSAGE_MAX_BYTES).toBeLessThan(4096);
    expect(truncateUtf8('short', 10)).toBe('short');
    expect(truncateUtf8('abcdefghij', 6)).toBe('abc…');
  });
});

describe('writeSpinnakerOutputs', () => {
  function sink(): { stream: PassThrough; text: () => string } {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return { stream, text: () => text };
  }

  it('a failed end: the lines on out, each ending in "\\n", and the message in the termination log', async () => {
    const out = sink();
    const terminationLog = join(mkdtempSync(join(tmpdir(), 'crossfade-termination-')), 'termination-log');
    const doc = rolledBackDoc();
    await writeSpinnakerOutputs(doc, undefined, { out: out.stream, terminationLog });
    expect(out.text()).toBe(spinnakerOutputLines(doc, undefined).join('\n') + '\n');
    expect(readFileSync(terminationLog, 'utf8')).toBe(terminationMessage(doc, undefined));
  });

  it('success: the lines, and no termination log written', async () => {
    const out = sink();
    const terminationLog = join(mkdtempSync(join(tmpdir(), 'crossfade-termination-')), 'termination-log');
    await writeSpinnakerOutputs(promotedDoc(), undefined, { out: out.stream, terminationLog });
    expect(out.text()).toMatch(/^SPINNAKER_CONFIG_JSON=\{.*\}\n(SPINNAKER_PROPERTY_[A-Z_]+=[^\n]+\n)+$/);
    expect(existsSync(terminationLog)).toBe(false);
  });

  it('a termination log that cannot be written: the outputs stand, the problem is reported on err, nothing thrown', async () => {
    const out = sink();
    const err = sink();
    const terminationLog = join(tmpdir(), 'crossfade-no-such-dir', 'x', 'termination-log');
    await writeSpinnakerOutputs(undefined, apiError(404, 'NOT_FOUND', 'service payments is not registered'), { out: out.stream, err: err.stream, terminationLog });
    expect(extractPropertiesFromLog(out.text(), 'released')).toMatchObject({ error: { statusCode: 404, code: 'NOT_FOUND' } });
    expect(err.text()).toContain(`could not write the termination message to ${terminationLog}`);
  });
});
