/**
 * Issue 9's run-job acceptance, without a container runtime or a cluster: the command the shipped
 * Job runs — the Dockerfile's ENTRYPOINT (its Node 22, the CLI bundle built into a fresh build
 * context) with the Job's container args, their SpEL filled as Orca fills them, and the Job's env
 * (CROSSFADE_URL pointed at a real `npm start`, CROSSFADE_TOKEN as its Secret gives it) — and its
 * stdout parsed exactly as Clouddriver parses the pod's log (both versions). Only the termination
 * log's path is moved into a temporary directory.
 *
 * Promoted: exit 0, the outputs give the deployment's id, status, final weights and judgment
 * scores, no termination message; a restarted stage follows the same deployment. Rolled back: exit
 * 1, the termination message says why. Refused (403) and unreachable: non-zero, the error in the
 * outputs and in the termination message.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, CLI_BUNDLE } from '../../scripts/cli-bundle.js';
import type { StatusDocument } from '../../shared/http/status-document.js';
import { orcaCapturedOutputs, type ClouddriverVersion } from '../support/clouddriver-property-parser.js';
import { freePort } from '../support/ports.js';
import { fillSpel, localImageCommand, readDockerfile, readJobManifest } from '../support/run-job-image.js';
import { promotedOutputsOf, rolledBackOutputsOf, RUN_JOB_TOKEN, startRunJobStack, type RunJobStack } from '../support/run-job-stack.js';

const BOTH: ClouddriverVersion[] = ['released', 'main'];
const TERMINATION_LOG = '/dev/termination-log';

let stack: RunJobStack;
let context: string;

beforeAll(async () => {
  context = mkdtempSync(join(tmpdir(), 'crossfade-run-job-context-'));
  await buildCliBundle(join(context, CLI_BUNDLE));
  // A service per run: once promoted, v2 serves 100% and a second canary of it would be refused.
  stack = await startRunJobStack('spinnaker-run-job', { passing: ['runjob-ok-released', 'runjob-ok-main', 'runjob-restart', 'runjob-down'], failing: ['runjob-bad-released', 'runjob-bad-main'] });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(context, { recursive: true, force: true });
}, 60_000);

interface JobRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What the container wrote to its termination log; undefined: nothing. */
  termination: string | undefined;
}

/**
 * Runs the Job's container as Kubernetes would, here: ENTRYPOINT + args, env from the manifest
 * with the URL and the Secret's token given. `spel` fills the args' `${…}` as Orca would.
 */
async function runJob(spel: { service: string; executionId: string }, env: { url?: string; token?: string } = {}): Promise<JobRun> {
  const container = readJobManifest().spec.template.spec.containers[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-run-job-pod-'));
  const terminationLog = join(dir, 'termination-log');
  const values: Record<string, string> = {
    "trigger['parameters']['service']": spel.service,
    "trigger['parameters']['version']": 'v2',
    "execution['application']": 'checkout',
    "execution['name']": 'deploy-prod',
    "execution['id']": spel.executionId,
    "#currentStage()['id']": 'run-job-1',
  };
  const args = container.args.map((arg) => (arg === TERMINATION_LOG ? terminationLog : fillSpel(arg, values)));
  const podEnv: Record<string, string> = { PATH: '/usr/bin:/bin', HOME: dir };
  for (const variable of container.env) {
    if (variable.name === 'CROSSFADE_URL') podEnv[variable.name] = env.url ?? stack.url;
    else if (variable.valueFrom?.secretKeyRef) podEnv[variable.name] = env.token ?? RUN_JOB_TOKEN;
    else podEnv[variable.name] = variable.value!;
  }
  const [node, ...entry] = localImageCommand(readDockerfile(), context);
  const { exitCode, stdout, stderr } = await new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve) =>
    execFile(node!, [...entry, ...args], { cwd: dir, env: podEnv, timeout: 150_000 }, (error, out, err) =>
      resolve({ exitCode: error ? Number((error as { code?: number }).code ?? -1) : 0, stdout: out, stderr: err }),
    ),
  );
  return { exitCode, stdout, stderr, termination: existsSync(terminationLog) ? readFileSync(terminationLog, 'utf8') : undefined };
}

/** The stdout of the Job's pod (`kubectl logs -c crossfade` also carries stderr: both, as Clouddriver gets them). */
function podLog(run: JobRun): string {
  return run.stdout + run.stderr;
}

describe('Spinnaker Run Job: the Job\'s command against npm start, its log parsed as Clouddriver does', () => {
  it.each(BOTH)('a passing canary (Clouddriver %s): exit 0; id, SUCCEEDED, final weights and judgment scores in the outputs; no termination message', async (version) => {
    const run = await runJob({ service: `runjob-ok-${version}`, executionId: `01JRUNJOBOK${version.toUpperCase()}` });
    expect(run.exitCode, podLog(run)).toBe(0);
    expect(run.stdout.split('\n').filter((line) => line.startsWith('SPINNAKER_CONFIG_JSON='))).toHaveLength(1);
    const { stageFails, outputs } = orcaCapturedOutputs(podLog(run), true, version);
    expect(stageFails).toBe(false);
    const doc = await stack.node.must<StatusDocument>('GET', `/v1/deployments/${String(outputs['deploymentId'])}`, undefined, 200);
    expect(doc.result!['judgments']).toHaveLength(6);
    expect(outputs).toMatchObject(promotedOutputsOf(doc));
    expect(doc.weights).toEqual(outputs['weights']);
    expect(run.termination).toBeUndefined();
  }, 180_000);

  it('a restarted stage (same execution and stage) follows the same deployment instead of starting another', async () => {
    const first = await runJob({ service: 'runjob-restart', executionId: '01JRUNJOBRESTART' });
    const again = await runJob({ service: 'runjob-restart', executionId: '01JRUNJOBRESTART' });
    expect([first.exitCode, again.exitCode]).toEqual([0, 0]);
    const ids = [first, again].map((run) => orcaCapturedOutputs(podLog(run), true, 'released').outputs['deploymentId']);
    expect(ids[0]).toMatch(/^dep_/);
    expect(ids[1]).toBe(ids[0]);
  }, 180_000);

  it.each(BOTH)('a canary rolled back by the judge (Clouddriver %s): exit 1, TERMINAL with the failing score, the reason in the termination message', async (version) => {
    const run = await runJob({ service: `runjob-bad-${version}`, executionId: `01JRUNJOBBAD${version.toUpperCase()}` });
    expect(run.exitCode, podLog(run)).toBe(1);
    const { stageFails, outputs } = orcaCapturedOutputs(podLog(run), false, version);
    expect(stageFails).toBe(true);
    const doc = await stack.node.must<StatusDocument>('GET', `/v1/deployments/${String(outputs['deploymentId'])}`, undefined, 200);
    const expected = rolledBackOutputsOf(doc);
    expect(outputs).toMatchObject(expected.outputs);
    expect(run.termination).toBe(expected.termination);
  }, 180_000);

  it('a service outside the token\'s scope: refused (403), exit 4, the error in the outputs and the termination message', async () => {
    const run = await runJob({ service: 'payments', executionId: '01JRUNJOBFORBIDDEN' });
    expect(run.exitCode, podLog(run)).toBe(4);
    const { outputs } = orcaCapturedOutputs(podLog(run), false, 'released');
    expect(outputs).toMatchObject({ error: { statusCode: 403 }, crossfade_error: expect.any(String) });
    expect(outputs).not.toHaveProperty('deploymentId');
    expect(run.termination).toMatch(/^crossfade deploy failed: .*\(HTTP 403 [A-Z_]+\)$/);
  }, 60_000);

  it('crossfade unreachable: exit 4, the error in the outputs and the termination message', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await runJob({ service: 'runjob-down', executionId: '01JRUNJOBUNREACHABLE' }, { url: closed });
    expect(run.exitCode, podLog(run)).toBe(4);
    const { outputs } = orcaCapturedOutputs(podLog(run), false, 'main');
    expect(outputs).toMatchObject({ error: { name: 'DependencyUnavailableError' } });
    expect(run.termination).toContain('crossfade deploy failed: ');
    expect(run.termination).toContain('127.0.0.1');
  }, 120_000);
});
