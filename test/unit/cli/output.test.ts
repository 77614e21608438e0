import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ExitCode } from '../../../cli/exit-codes.js';
import { ApiError } from '../../../cli/api.js';
import { describeError, exitCodeOfError, UsageError } from '../../../cli/failure.js';
import { colorsFor, deploymentsTable, deploymentTable, describeWeights, render } from '../../../cli/output.js';
import { DependencyUnavailableError, NotFoundError } from '../../../shared/domain/errors.js';
import type { StatusDocument } from '../../../shared/http/status-document.js';

const doc: StatusDocument = {
  id: 'dep_1',
  service: 'checkout',
  environment: null,
  status: 'TERMINAL',
  progress: 'rolled back: judged failing',
  phase: 'ROLLED_BACK',
  step: { index: 2, count: 3 },
  planHash: 'h',
  plan: [{ kind: 'setWeight', canaryPercent: 5, wave: null }, { kind: 'analysis', template: 'error-ratio', intervalSeconds: 60, count: 3 }, { kind: 'setWeight', canaryPercent: 100, wave: null }],
  hold: null,
  heldBy: null,
  baseline: 'v1',
  canary: 'v2',
  weights: { aws: { v1: 100, v2: 0 }, gcp: { v1: 100, v2: 0 } },
  statusUrl: 'http://x/v1/deployments/dep_1',
  cancelUrl: 'http://x/v1/deployments/dep_1/cancel',
  result: { outcome: 'rolled back', reason: 'error-ratio failed', judgments: [{ stepIndex: 1, score: 12, classification: 'Fail' }] },
  unverified: [],
  retrying: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:01:00.000Z',
};
const ESC = '\u001b[';

describe('output', () => {
  it('json and yaml are the document exactly', () => {
    expect(JSON.parse(render(doc, 'json', () => 'table'))).toEqual(doc);
    expect(parse(render(doc, 'yaml', () => 'table'))).toEqual(doc);
    expect(render(doc, 'table', () => 'table')).toBe('table\n');
  });

  it('colour only on a terminal, without NO_COLOR and --no-color', () => {
    expect(colorsFor(true, {}, true).isColorSupported).toBe(true);
    expect(colorsFor(false, {}, true).isColorSupported).toBe(false);
    expect(colorsFor(true, { NO_COLOR: '' }, true).isColorSupported).toBe(false);
    expect(colorsFor(true, {}, false).isColorSupported).toBe(false);
  });

  it('a deployment table shows status, step, weights, judgments and the result; escapes only with colour', () => {
    const plain = deploymentTable(doc, colorsFor(false, {}, true));
    for (const text of ['dep_1', 'TERMINAL (ROLLED_BACK)', '3 of 3', 'aws: v1 100% · v2 0%', 'step 2: Fail (12)', 'rolled back: error-ratio failed']) expect(plain).toContain(text);
    expect(plain).not.toContain(ESC);
    expect(deploymentTable(doc, colorsFor(true, {}, true))).toContain(ESC);
    expect(deploymentsTable([doc], colorsFor(false, {}, true))).toMatch(/dep_1\s*│\s*checkout\s*│\s*TERMINAL/);
    expect(deploymentsTable([], colorsFor(false, {}, true))).toBe('no deployments');
    expect(describeWeights({})).toBe('-');
  });
});

describe('failures', () => {
  it('exit codes: 400 → 2; 404, 409, 422 → 5; 401, 403, 429, 5xx, unreachable → 4; the command line → 2', () => {
    const codes = [400, 401, 403, 404, 409, 422, 429, 500, 502, 503].map((status) => exitCodeOfError(new ApiError(status, 'X', 'm', undefined)));
    expect(codes).toEqual([2, 4, 4, 5, 5, 5, 4, 4, 4, 4]);
    expect(exitCodeOfError(new DependencyUnavailableError('crossfade at http://h', 'GET /x'))).toBe(ExitCode.Unreachable);
    expect(exitCodeOfError(new UsageError('bad'))).toBe(ExitCode.Usage);
    // What the live view throws when the API refuses mid-watch.
    expect(exitCodeOfError(new NotFoundError('deployment dep_1 does not exist'))).toBe(ExitCode.Refused);
  });

  it('one line: the message, the API code and the field', () => {
    expect(describeError(new ApiError(400, 'VALIDATION_FAILED', 'steps[0].setWeight must be between 0 and 100', 'steps[0].setWeight'))).toBe(
      'crossfade: steps[0].setWeight must be between 0 and 100 (VALIDATION_FAILED, field steps[0].setWeight)',
    );
    expect(describeError(new Error('first\nsecond'))).toBe('crossfade: first');
  });
});
