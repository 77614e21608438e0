/**
 * writeSpinnakerOutputs on real status documents: deployments run to their ends by a real
 * `npm start` (HAProxy, a fake Prometheus for the judge), their final documents fetched over HTTP,
 * and what the Run Job stage would print for them read back exactly as Clouddriver reads a pod's
 * log (both versions), and the termination message Kubernetes would show. The same, by the real
 * command the Job runs, is spinnaker-run-job.test.ts.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSpinnakerOutputs } from '../../cli/spinnaker-output.js';
import type { StatusDocument } from '../../shared/http/status-document.js';
import { orcaCapturedOutputs, type ClouddriverVersion } from '../support/clouddriver-property-parser.js';
import { promotedOutputsOf, rolledBackOutputsOf, startRunJobStack, type RunJobStack } from '../support/run-job-stack.js';

const BOTH: ClouddriverVersion[] = ['released', 'main'];
/** The plan the shipped Job asks for: canary-5-25-50-100 with two judgments between traffic steps. */
const PLAN = { strategy: 'canary-5-25-50-100', analysis: { template: 'golden', interval: '5m', count: 2 } };

let stack: RunJobStack;

beforeAll(async () => {
  stack = await startRunJobStack('spinnaker-output', { passing: ['out-ok', 'out-cancel'], failing: ['out-bad'] });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

async function deployToEnd(service: string, body: Record<string, unknown>, onStatus?: (doc: { id: string; phase: string }) => Promise<void>): Promise<StatusDocument> {
  const created = await stack.node.must<{ id: string }>('POST', '/v1/deployments', { service, canary: { version: 'v2' }, ...body }, 202, { 'x-idempotency-key': `out-${service}` });
  await stack.node.driveToEnd(created.id, 120_000, onStatus);
  return stack.node.must<StatusDocument>('GET', `/v1/deployments/${created.id}`, undefined, 200);
}

/** What the Job prints and writes for `doc` (or `failure`): its stdout and its termination message (undefined: none written). */
async function outputsOf(doc: StatusDocument | undefined, failure?: Error): Promise<{ log: string; termination: string | undefined }> {
  const out = new PassThrough();
  let log = 'crossfade: following the deployment\n';
  out.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const terminationLog = join(mkdtempSync(join(tmpdir(), 'crossfade-run-job-')), 'termination-log');
  await writeSpinnakerOutputs(doc, failure, { out, terminationLog });
  return { log, termination: existsSync(terminationLog) ? readFileSync(terminationLog, 'utf8') : undefined };
}

describe('the Run Job outputs of real deployments, as Spinnaker captures them', () => {
  it.each(BOTH)('promoted (Clouddriver %s): id, SUCCEEDED, the final weights, every judgment score per analysis; the stage passes, no termination message', async (version) => {
    const doc = await deployToEnd('out-ok', PLAN);
    expect(doc.status).toBe('SUCCEEDED');
    const { log, termination } = await outputsOf(doc);
    const { stageFails, outputs } = orcaCapturedOutputs(log, true, version);
    expect(stageFails).toBe(false);
    // Two judgments after each of the three traffic steps below 100%.
    expect(doc.result!['judgments']).toHaveLength(6);
    expect(outputs).toMatchObject(promotedOutputsOf(doc));
    expect(termination).toBeUndefined();
  }, 150_000);

  it.each(BOTH)('rolled back (Clouddriver %s): TERMINAL, traffic back on v1, the failing score; the termination message says why', async (version) => {
    const doc = await deployToEnd('out-bad', PLAN);
    expect(doc.phase).toBe('ROLLED_BACK');
    const { log, termination } = await outputsOf(doc);
    const { outputs } = orcaCapturedOutputs(log, false, version);
    const expected = rolledBackOutputsOf(doc);
    expect(outputs).toMatchObject(expected.outputs);
    expect(termination).toBe(expected.termination);
  }, 150_000);

  it('canceled at a manual gate: CANCELED, who canceled, no judgment; the termination message says so', async () => {
    let canceled = false;
    const doc = await deployToEnd('out-cancel', { steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 100 }] }, async (status) => {
      if (canceled || status.phase !== 'PAUSED') return;
      canceled = true;
      await stack.node.must('POST', `/v1/deployments/${status.id}/cancel`, { reason: 'release window closed' }, 200);
    });
    const { log, termination } = await outputsOf(doc);
    expect(orcaCapturedOutputs(log, false, 'released').outputs).toMatchObject({ status: 'CANCELED', weights: { aws: { v1: 100, v2: 0 } }, result: { outcome: 'canceled' }, analyses: [] });
    expect(termination).toMatch(new RegExp(`^deployment ${doc.id} of out-cancel ended CANCELED \\(CANCELED\\): canceled by `));
  }, 150_000);

  it('a create the API refuses (a canary never registered): the error with its status and code, and a termination message', async () => {
    const answer = await stack.node.call<{ error: { code: string; message: string } }>('POST', '/v1/deployments', { service: 'out-ok', canary: { version: 'v9' }, ...PLAN });
    expect(answer!.status).toBe(400);
    // As the CLI carries an API refusal (cli/api.ts ApiError): name, message, statusCode, code.
    const failure = Object.assign(new Error(answer!.body.error.message), { name: 'ApiError', statusCode: 400, code: answer!.body.error.code });
    const { log, termination } = await outputsOf(undefined, failure);
    for (const version of BOTH) {
      expect(orcaCapturedOutputs(log, false, version).outputs).toEqual({
        error: { name: 'ApiError', message: answer!.body.error.message, statusCode: 400, code: answer!.body.error.code },
        crossfade_error: answer!.body.error.code,
      });
    }
    expect(termination).toBe(`crossfade deploy failed: ${answer!.body.error.message} (HTTP 400 ${answer!.body.error.code})`);
  });
});
