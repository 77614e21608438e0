/**
 * The `crossfade` command against a real `npm start`: every subcommand's success, run as a child
 * process (bin/crossfade.mjs, what `npx crossfade` runs). `--output json` is compared with the
 * document fetched from the API directly; followed deployments exit with their status's code
 * (SUCCEEDED 0, TERMINAL 1, CANCELED 3). Errors: cli-errors.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { crossfade, startCliStack, TEMPLATE, waitForDeployment, type CliRun, type CliStack } from '../support/cli.js';
import { waitFor } from '../support/local-process.js';

let stack: CliStack;

beforeAll(async () => {
  stack = await startCliStack();
  for (const service of ['orders', 'payments', 'happy', 'doomed-svc']) await registerBoth(service);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

/** v1 and v2 of `service` on both clusters, through the API. */
async function registerBoth(service: string): Promise<void> {
  for (const [index, version] of ['v1', 'v2'].entries()) {
    const answer = await stack.api('PUT', `/v1/services/${service}/versions/${version}`, { targets: targetsOf(service, index) });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  }
}

function targetsOf(service: string, index: number) {
  return [
    { cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `10.1.${index}.1`, port: 8080, zone: null }] },
    { cloud: 'gcp', cluster: 'gke-usc1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `10.8.${index}.1`, port: 8080, zone: 'us-central1-a' }] },
  ];
}

const run = (...args: string[]) => crossfade(args, stack.env);

/** Exit 0, nothing on stderr, stdout the JSON document. */
function json<T = Record<string, unknown>>(result: CliRun): T {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function apiDocument(path: string): Promise<unknown> {
  const answer = await stack.api('GET', path);
  expect(answer.status).toBe(200);
  return answer.body;
}

describe('crossfade against npm start', () => {
  it('register (flags), deploy (flags), get, list, events as the API documents; pause, resume and promote --full at the gates; watch, events --follow and services of the ended deployment', async () => {
    const targets = (index: number) => ['--target', `cloud=aws,cluster=eks-use1,namespace=checkout,port=8080,endpoint=10.1.${index}.1:8080`, '--target', `cloud=gcp,cluster=gke-usc1,namespace=checkout,port=8080,endpoint=10.8.${index}.1:8080@us-central1-a`];
    const registered = json(await run('register', 'checkout', 'v1', ...targets(0), '--reason', 'cli: first version', '-o', 'json'));
    expect(registered).toMatchObject({ service: 'checkout', version: 'v1', outcome: 'created' });
    expect(json(await run('register', 'checkout', 'v2', ...targets(1), '-o', 'json'))).toMatchObject({ version: 'v2', outcome: 'created' });
    const again = await run('register', 'checkout', 'v2', ...targets(1));
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(again.stdout).toMatch(/outcome\s*│\s*unchanged/);
    // What the flags made is what the API stored.
    const view = (await apiDocument('/v1/services/checkout')) as { versions: { version: string; clusters: unknown[] }[] };
    expect(view.versions.find((v) => v.version === 'v2')!.clusters).toEqual(expect.arrayContaining([expect.objectContaining({ cluster: 'gke-usc1', endpoints: [{ address: '10.8.1.1', port: 8080, zone: 'us-central1-a' }] })]));

    const created = json<{ id: string; canary: string; service: string }>(
      await run('deploy', 'checkout', 'v2', '--baseline', 'v1', '--step', '5%@gcp', '--step', 'pause', '--step', '50', '--step', 'pause', '--step', '100', '--reason', 'cli: first canary', '-o', 'json'),
    );
    expect(created).toMatchObject({ service: 'checkout', canary: 'v2', baseline: 'v1', step: { count: 5 } });
    const id = created.id;
    await waitForDeployment(stack, id, (d) => d.phase === 'PAUSED' && d.step.index === 1, 'the first gate');

    // --output json and yaml are the API's documents, exactly.
    expect(json(await run('get', id, '-o', 'json'))).toEqual(await apiDocument(`/v1/deployments/${id}`));
    const yaml = await run('get', id, '--output', 'yaml');
    expect(yaml.code).toBe(0);
    expect(parseYaml(yaml.stdout)).toEqual(await apiDocument(`/v1/deployments/${id}`));
    expect(json(await run('list', '--service', 'checkout', '-o', 'json'))).toEqual(await apiDocument('/v1/deployments?service=checkout'));
    expect(json(await run('list', '--service', 'checkout', '--status', 'running', '--all', '-o', 'json'))).toEqual(await apiDocument('/v1/deployments?service=checkout&status=RUNNING'));
    expect(json(await run('events', id, '-o', 'json'))).toEqual(await apiDocument(`/v1/deployments/${id}/events?limit=100`));
    const table = await run('get', id);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(id);
    expect(table.stdout).toContain('RUNNING (PAUSED)');
    expect(table.stdout).toContain('gcp: v1 95% · v2 5%');
    expect(table.stdout).not.toContain('\u001b['); // not a terminal: no colour

    // An operator's pause at the gate, then resume: the gate is passed, the run goes on to the next one.
    expect(json(await run('pause', id, '--reason', 'cli: hold on', '-o', 'json'))).toMatchObject({ id, status: 'RUNNING' });
    expect(json(await run('resume', id, '--reason', 'cli: go on', '-o', 'json'))).toMatchObject({ id });
    await waitForDeployment(stack, id, (d) => d.phase === 'PAUSED' && d.step.index === 3, 'the second gate');
    expect(json(await run('promote', id, '--full', '--reason', 'cli: ship it', '-o', 'json'))).toMatchObject({ id });
    await waitForDeployment(stack, id, (d) => d.status === 'SUCCEEDED', 'the promotion');

    const reasons = ((await apiDocument(`/v1/deployments/${id}/events?limit=100`)) as { items: { reason: string | null }[] }).items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['cli: first canary', 'cli: hold on', 'cli: go on', 'cli: ship it']));

    // Following an ended deployment ends at once with its code.
    const followed = await run('events', id, '--follow', '-o', 'json');
    expect(followed.code).toBe(0);
    const all = (await apiDocument(`/v1/deployments/${id}/events?limit=100`)) as { items: unknown[] };
    expect(followed.stdout.trim().split('\n').map((line) => JSON.parse(line))).toEqual(all.items);

    expect(json(await run('services', 'checkout', '-o', 'json'))).toEqual(await apiDocument('/v1/services/checkout'));

    // The baseline carries nothing now: it can go; the canary serves 100%: it cannot.
    expect(json(await run('deregister', 'checkout', 'v1', '--reason', 'cli: v1 retired', '-o', 'json'))).toMatchObject({ service: 'checkout', version: 'v1', outcome: 'deregistered' });
    // Registrations say why too: the service's timeline, as the API answers it.
    const timeline = json<{ items: { action: string; reason: string | null; details: { version: string } }[] }>(await run('services', 'checkout', '--events', '-o', 'json'));
    expect(timeline).toEqual(await apiDocument('/v1/services/checkout/events?limit=100'));
    const whys = timeline.items.filter((event) => event.details.version === 'v1').map(({ action, reason }) => ({ action, reason }));
    expect(whys).toEqual([
      { action: 'service.version-registered', reason: 'cli: first version' },
      { action: 'service.version-deregistered', reason: 'cli: v1 retired' },
    ]);
    const refused = await run('deregister', 'checkout', 'v2');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^crossfade: .+ \(CONFLICT\)\n$/);

    const reconciled = json<{ services: { service: string }[]; summary: Record<string, number> }>(await run('reconcile', '--service', 'checkout', '--reason', 'cli: after the release', '-o', 'json'));
    expect(reconciled.services.map((s) => s.service)).toEqual(['checkout']);
    // Every service: a run in shards, followed to its end.
    const reconcileRun = await run('reconcile', '--wait');
    expect(reconcileRun.code).toBe(0);
    expect(reconcileRun.stdout).toMatch(/^run rec_[0-9a-z]{26}: finished, 1 shards, \d+ services seen/m);
    expect(reconcileRun.stdout).toMatch(/status: http:\/\/.+\/v1\/reconcile\/runs\/rec_/);

    // Engineer C's live view and engineer A's GET /v1/services, last: they land in other branches.
    const watched = await run('watch', id);
    expect(watched.code).toBe(0);
    expect(watched.stdout).not.toBe('');
    expect(json(await run('services', '-o', 'json'))).toEqual(await apiDocument('/v1/services'));
    const services = await run('services');
    expect(services.code).toBe(0);
    expect(services.stdout).toContain('checkout');
  }, 240_000);

  it('deploy --wait of a canary the judge fails exits 1 with the rolled-back document; of one that passes, 0', async () => {
    const doomed = await run('deploy', 'doomed-svc', 'v2', '--step', '5', '--step', `analysis:${TEMPLATE}:10s:1`, '--step', '100', '--wait', '--interval', '200ms', '-o', 'json');
    expect(doomed.code, doomed.stderr).toBe(1);
    const ended = JSON.parse(doomed.stdout) as { id: string; status: string; phase: string };
    expect(ended).toMatchObject({ status: 'TERMINAL', phase: 'ROLLED_BACK' });
    expect(ended).toEqual(await apiDocument(`/v1/deployments/${ended.id}`));

    // The body from a file, the flags overriding its fields (the version, and an analysis beside its strategy).
    const file = join(mkdtempSync(join(tmpdir(), 'crossfade-cli-')), 'deploy.yaml');
    writeFileSync(file, 'service: happy\ncanary:\n  version: v7\nstrategy: canary-5-25-50-100\nreason: "cli: from a file"\n');
    const happy = await run('deploy', 'happy', 'v2', '--file', file, '--analysis', `${TEMPLATE}:10s:1`, '--wait', '--interval', '200ms', '-o', 'json');
    expect(happy.code, happy.stderr).toBe(0);
    const succeeded = JSON.parse(happy.stdout) as { id: string };
    expect(succeeded).toMatchObject({ status: 'SUCCEEDED', canary: 'v2', weights: { aws: { v1: 0, v2: 100 }, gcp: { v1: 0, v2: 100 } } });
    const events = (await apiDocument(`/v1/deployments/${succeeded.id}/events?limit=100`)) as { items: { action: string; reason: string | null }[] };
    expect(events.items.find((e) => e.action === 'deployment.created')?.reason).toBe('cli: from a file');
  }, 180_000);

  it('deploy --wait of a canary canceled at its gate exits 3; rollback ends another TERMINAL and events --follow exits 1; cancel is idempotent, also by key', async () => {
    const waiting = run('deploy', 'payments', 'v2', '--step', '5', '--step', 'pause', '--step', '100', '--wait', '--idempotency-key', 'cli-payments-1', '--interval', '200ms', '-o', 'json');
    let id = '';
    await waitFor(async () => {
      const page = (await stack.api<{ items: { id: string; phase: string }[] }>('GET', '/v1/deployments?service=payments')).body;
      id = page.items.find((d) => d.phase === 'PAUSED')?.id ?? '';
      return id !== '';
    }, 60_000, 'the payments gate');
    expect(json(await run('cancel', id, '--reason', 'cli: not today', '-o', 'json'))).toMatchObject({ id });
    const waited = await waiting;
    expect(waited.code, waited.stderr).toBe(3);
    expect(JSON.parse(waited.stdout)).toMatchObject({ id, status: 'CANCELED' });
    expect(json(await run('cancel', id, '-o', 'json'))).toMatchObject({ id, status: 'CANCELED' });

    const created = json<{ id: string }>(await run('deploy', 'orders', 'v2', '--step', '5', '--step', 'pause', '--step', '100', '-o', 'json'));
    await waitForDeployment(stack, created.id, (d) => d.phase === 'PAUSED', 'the orders gate');
    expect(json(await run('rollback', created.id, '--reason', 'cli: bad canary', '-o', 'json'))).toMatchObject({ id: created.id });
    const followed = await run('events', created.id, '--follow', '--interval', '200ms');
    expect(followed.code, followed.stderr).toBe(1);
    expect(followed.stdout).toContain('cli: bad canary');
    expect(json(await run('get', created.id, '-o', 'json'))).toMatchObject({ status: 'TERMINAL', weights: { aws: { v1: 100, v2: 0 }, gcp: { v1: 100, v2: 0 } } });

    // Engineer A's by-key cancel, last: it lands in another branch.
    // By the creation's key: idempotent, 200 whether or not the key names a deployment.
    expect((await run('cancel', '--key', 'cli-payments-1', '-o', 'json')).code).toBe(0);
    expect((await run('cancel', '--key', 'cli-no-such-key', '-o', 'json')).code).toBe(0);
  }, 180_000);
});
