/**
 * The run-job image and Job, checked as files (no container runtime or cluster here): the
 * Dockerfile builds a small non-root Node 22 image of the CLI bundle alone, .dockerignore lets
 * nothing else into the context, and spinnaker/run-job/deploy-job.yaml is a valid batch/v1 Job
 * (kubernetes-models' schema validation) that runs `deploy … --wait --spinnaker-output` once,
 * locked down, with its token from a Secret. That the command really runs is
 * test/integration/cli-bundle.test.ts and spinnaker-run-job.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import { CLI_BUNDLE } from '../../../scripts/cli-bundle.js';
import { copies, dockerfileInstructions, dockerIgnores, execForm, readDockerfile, readJobManifest, ROOT, spelExpressions } from '../../support/run-job-image.js';

const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');

describe('Dockerfile', () => {
  const instructions = readDockerfile();

  it('one stage on a Node 22 base without shell or package manager (distroless), by tag or digest', () => {
    const from = instructions.filter((i) => i.keyword === 'FROM');
    expect(from).toHaveLength(1);
    expect(from[0]!.args).toMatch(/^gcr\.io\/distroless\/nodejs22-debian12(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/);
  });

  it('runs as a numeric non-root user (runAsNonRoot can only verify a number), set after every COPY', () => {
    const users = instructions.filter((i) => i.keyword === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.args.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    expect(instructions.findIndex((i) => i.keyword === 'USER')).toBeGreaterThan(instructions.findLastIndex((i) => i.keyword === 'COPY'));
    // The same user as the Job's pod securityContext.
    expect(readJobManifest().spec.template.spec.securityContext).toMatchObject({ runAsUser: uid, runAsGroup: gid });
  });

  it('copies only the CLI bundle that npm run build writes, and runs it with node in exec form', () => {
    expect(copies(instructions)).toEqual([{ sources: [CLI_BUNDLE], destination: '/app/crossfade.mjs', flags: [] }]);
    expect(instructions.filter((i) => i.keyword === 'ADD' || i.keyword === 'RUN')).toEqual([]);
    expect(execForm(instructions, 'ENTRYPOINT')).toEqual(['/nodejs/bin/node', '/app/crossfade.mjs']);
  });

  it('bakes in no secret: no ENV or ARG naming a token, key, password or secret', () => {
    const settings = instructions.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG');
    expect(settings.filter((i) => /token|secret|password|key|credential/i.test(i.args))).toEqual([]);
  });

  it('the parser reads continuations and comments as Docker does', () => {
    expect(dockerfileInstructions('# c\nFROM a\nLABEL x="1" \\\n      y="2"\n')).toEqual([
      { keyword: 'FROM', args: 'a' },
      { keyword: 'LABEL', args: 'x="1" y="2"' },
    ]);
  });
});

describe('.dockerignore', () => {
  it('lets in the bundle the Dockerfile copies, and nothing else of the checkout', () => {
    for (const { sources } of copies(readDockerfile())) for (const source of sources) expect(dockerIgnores(dockerignore, source), source).toBe(false);
    const kept = ['crossfade.yaml', 'crossfade.example.yaml', '.env', 'node_modules/yaml/index.js', 'dist/aws/canary/index.mjs', 'dist/cli/crossfade.mjs.map', 'cli/main.ts', '.git/config', '.crossfade/store-endpoint.json', 'package.json', 'Dockerfile'];
    expect(kept.filter((path) => !dockerIgnores(dockerignore, path))).toEqual([]);
  });

  it('the matcher follows Docker: last match wins, "!" lets back in, "*" stays in a segment, "**" crosses them, a directory covers its content', () => {
    expect(dockerIgnores('*\n!dist/cli/x', 'dist/cli/x')).toBe(false);
    expect(dockerIgnores('dist\n', 'dist/cli/x')).toBe(true);
    expect(dockerIgnores('*.md', 'docs/a.md')).toBe(false);
    expect(dockerIgnores('**/*.md', 'docs/a.md')).toBe(true);
    expect(dockerIgnores('!a\n*', 'a')).toBe(true);
  });
});

describe('spinnaker/run-job/deploy-job.yaml', () => {
  const manifest = readJobManifest();
  const pod = manifest.spec.template.spec;
  const container = pod.containers[0]!;

  it('validates as a batch/v1 Job against the Kubernetes schema (kubernetes-models)', () => {
    expect(manifest).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job' });
    expect(() => new Job(manifest as never).validate()).not.toThrow();
  });

  it('the schema check can fail: a wrong type is refused', () => {
    const broken = { ...manifest, spec: { ...manifest.spec, backoffLimit: 'zero' } };
    expect(() => new Job(broken as never).validate()).toThrow(/backoffLimit must be integer/);
  });

  it('runs once (backoffLimit 0, restartPolicy Never), is cleaned up, and has a deadline', () => {
    expect(manifest.spec.backoffLimit).toBe(0);
    expect(pod.restartPolicy).toBe('Never');
    expect(manifest.spec.ttlSecondsAfterFinished).toBeGreaterThanOrEqual(600);
    expect(manifest.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    // A fresh name per execution: Spinnaker adds a suffix to generateName.
    expect(manifest.metadata['generateName']).toMatch(/^[a-z0-9-]+-$/);
  });

  it('one container, named for the stage\'s "Container Name", running deploy --wait --spinnaker-output with the termination log', () => {
    expect(pod.containers).toHaveLength(1);
    expect(container.name).toBe('crossfade');
    expect(container.args[0]).toBe('deploy');
    expect(container.args).toEqual(expect.arrayContaining(['--wait', '--spinnaker-output']));
    const log = container.args.indexOf('--termination-log');
    expect(container.args[log + 1]).toBe('/dev/termination-log');
    expect(container.terminationMessagePath ?? '/dev/termination-log').toBe('/dev/termination-log');
    expect(container.terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  it('stops following before the Job\'s deadline, so the outputs are still printed', () => {
    const timeout = container.args[container.args.indexOf('--timeout') + 1]!;
    const minutes = /^(\d+)m$/.exec(timeout);
    expect(minutes).not.toBeNull();
    expect(Number(minutes![1]) * 60).toBeLessThan(manifest.spec.activeDeadlineSeconds!);
  });

  it('a deterministic idempotency key from the execution and stage, so a restarted stage follows the same deployment', () => {
    expect(container.args[container.args.indexOf('--idempotency-key') + 1]).toBe("${execution['id']}-${#currentStage()['id']}");
  });

  it('the token comes from a Secret, the URL from the manifest; no other secret value in it', () => {
    const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
    expect(env['CROSSFADE_TOKEN']).toEqual({ name: 'CROSSFADE_TOKEN', valueFrom: { secretKeyRef: { name: expect.any(String), key: expect.any(String) } } });
    expect(env['CROSSFADE_URL']!.value).toMatch(/^https:\/\//);
    expect(JSON.stringify(manifest)).not.toMatch(/cf_[A-Za-z0-9_-]{20,}/);
    expect(container.args).not.toContain('--token');
  });

  it('locked down: non-root, read-only root filesystem, no privilege escalation, every capability dropped, no service account token', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('requests and limits CPU and memory', () => {
    expect(container.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources?.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
  });

  it('its SpEL reads only what a pipeline execution has: trigger parameters, the execution, the current stage', () => {
    // In the manifest's values (Orca evaluates those; YAML comments never reach it).
    const expressions = spelExpressions(JSON.stringify(manifest));
    expect(expressions.length).toBeGreaterThan(0);
    for (const expression of expressions) expect(expression).toMatch(/^(trigger\['parameters'\]\['\w+'\]|execution\['\w+'\]|#currentStage\(\)\['id'\])$/);
  });
});
