/**
 * The `crossfade` command's failures against a real `npm start`, each subcommand on each error:
 * an unknown id (5), a token whose scopes do not reach the service (403 → 4), an API nothing
 * answers at (4, naming the URL), a flag it does not know (2); one line on stderr, never a token.
 * And where the connection comes from: flags over the environment over the contexts file.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossfade, crossfadeAll, startCliStack, waitForDeployment, type CliRun, type CliStack } from '../support/cli.js';
import { freePort } from '../support/ports.js';

let stack: CliStack;
let id: string;
let closedUrl: string;

beforeAll(async () => {
  stack = await startCliStack();
  for (const [index, version] of ['v1', 'v2'].entries()) {
    const answer = await stack.api('PUT', `/v1/services/checkout/versions/${version}`, {
      targets: [{ cloud: 'gcp', cluster: 'gke-usc1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints: [{ address: `10.8.0.${index + 1}`, port: 8080 }] }],
    });
    expect(answer.status).toBe(201);
  }
  const created = await stack.api<{ id: string }>('POST', '/v1/deployments', { service: 'checkout', canary: { version: 'v2' }, steps: [{ setWeight: 5 }, { pause: {} }, { setWeight: 100 }] });
  expect(created.status).toBe(202);
  id = created.body.id;
  await waitForDeployment(stack, id, (d) => d.phase === 'PAUSED', 'the gate');
  closedUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

/** One line, `crossfade: …`, on stderr; nothing on stdout; no token anywhere. */
function failedWith(result: CliRun, code: number, pattern: RegExp): void {
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code, stderr: expect.stringMatching(pattern) });
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stdout).toBe('');
  for (const token of [stack.adminToken, stack.narrowToken]) expect(result.stderr).not.toContain(token);
}

/** Each subcommand's command line about a deployment or service `subject`. */
function commandLines(deployment: string, service: string): Record<string, string[]> {
  return {
    deploy: ['deploy', service, 'v2', '--step', '5', '--step', '100'],
    get: ['get', deployment],
    list: ['list', '--service', service],
    watch: ['watch', deployment],
    events: ['events', deployment],
    'events --follow': ['events', deployment, '--follow'],
    promote: ['promote', deployment],
    pause: ['pause', deployment],
    resume: ['resume', deployment],
    rollback: ['rollback', deployment],
    cancel: ['cancel', deployment],
    services: ['services', service],
    register: ['register', service, 'v3', '--target', 'cloud=gcp,cluster=gke-usc1,namespace=checkout,port=8080,endpoint=10.8.0.3:8080'],
    deregister: ['deregister', service, 'v1'],
    reconcile: ['reconcile', '--service', service],
    'policy check': ['policy', 'check', service, 'v2', '--step', '5', '--step', '100'],
  };
}

describe('crossfade failures', () => {
  it('an unknown deployment or service: exit 5 and the API\'s NOT_FOUND; an unregistered version: exit 2 naming the field', async () => {
    const lines = commandLines('dep_doesnotexist', 'nosuchservice');
    const about = ['get', 'watch', 'events', 'events --follow', 'promote', 'pause', 'resume', 'rollback', 'cancel', 'services'];
    const results = await crossfadeAll(about.map((name) => ({ args: lines[name]!, env: stack.env })));
    about.forEach((name, index) => failedWith(results[index]!, 5, /^crossfade: .+ \(NOT_FOUND\)\n$/));
    const deploy = await crossfade(lines['deploy']!, stack.env);
    failedWith(deploy, 2, /^crossfade: .+ \(VALIDATION_FAILED, field canary\.version\)\n$/);
  }, 180_000);

  it('a token whose scopes do not reach the service: exit 4 and the API\'s FORBIDDEN, for every subcommand', async () => {
    const lines = commandLines(id, 'checkout');
    const names = Object.keys(lines);
    const results = await crossfadeAll(names.map((name) => ({ args: lines[name]!, env: { CROSSFADE_URL: stack.url, CROSSFADE_TOKEN: stack.narrowToken } })));
    names.forEach((name, index) => failedWith(results[index]!, 4, /^crossfade: .+ \(FORBIDDEN\)\n$/));
    // No token at all, or one nobody issued: 401, exit 4, saying where tokens come from.
    failedWith(await crossfade(['get', id], { CROSSFADE_URL: stack.url }), 4, /^crossfade: .+ \(UNAUTHENTICATED\) \(check --token/);
    failedWith(await crossfade(['get', id], { CROSSFADE_URL: stack.url, CROSSFADE_TOKEN: 'cf_nobody_issued_this_one' }), 4, /\(UNAUTHENTICATED\)/);
    // Nothing was changed by any of them.
    expect((await stack.api<{ status: string; phase: string }>('GET', `/v1/deployments/${id}`)).body).toMatchObject({ status: 'RUNNING', phase: 'PAUSED' });
  }, 180_000);

  it('nothing answers at the URL: exit 4, naming it, for every subcommand', async () => {
    const lines = commandLines(id, 'checkout');
    const names = Object.keys(lines);
    const results = await crossfadeAll(names.map((name) => ({ args: [...lines[name]!, '--url', closedUrl], env: { CROSSFADE_TOKEN: stack.adminToken } })));
    names.forEach((name, index) => failedWith(results[index]!, 4, new RegExp(`^crossfade: crossfade at ${closedUrl}: .*ECONNREFUSED`)));
  }, 180_000);

  it('a flag it does not know, a bad value, a missing argument: exit 2 before anything is sent', async () => {
    const lines = commandLines(id, 'checkout');
    const names = Object.keys(lines);
    const results = await crossfadeAll(names.map((name) => ({ args: [...lines[name]!, '--no-such-flag'], env: stack.env })));
    names.forEach((name, index) => failedWith(results[index]!, 2, /^crossfade: unknown option '--no-such-flag'/));
    const usage = await crossfadeAll([
      { args: ['get', id, '-o', 'xml'], env: stack.env },
      { args: ['get'], env: stack.env },
      { args: ['deploy', 'checkout', 'v2', '--step', 'sideways'], env: stack.env },
      { args: ['deploy', 'checkout', 'v2'], env: stack.env },
      { args: ['list', '--limit', '0'], env: stack.env },
      { args: ['cancel'], env: stack.env },
      { args: ['nosuchcommand'], env: stack.env },
      { args: ['get', id], env: {} },
    ]);
    failedWith(usage[0]!, 2, /^crossfade: --output must be one of table, json, yaml, not xml\n$/);
    failedWith(usage[1]!, 2, /^crossfade: missing required argument 'id'\n$/);
    failedWith(usage[2]!, 2, /^crossfade: --step sideways is not /);
    failedWith(usage[3]!, 2, /^crossfade: deploy needs a plan/);
    failedWith(usage[4]!, 2, /^crossfade: --limit must be a whole number from 1 to 100, not 0\n$/);
    failedWith(usage[5]!, 2, /^crossfade: cancel needs a deployment id or --key/);
    failedWith(usage[6]!, 2, /^crossfade: unknown command 'nosuchcommand'/);
    failedWith(usage[7]!, 2, /^crossfade: no crossfade to talk to: give --url, set CROSSFADE_URL, or add a context to /);
    // The API refuses a body the CLI passed on: 400 is exit 2 too, naming the field.
    failedWith(await crossfade(['deploy', 'checkout', 'v2', '--step', '150'], stack.env), 2, /\(VALIDATION_FAILED, field steps\[0\]\.setWeight\)/);
    expect((await stack.api<{ items: unknown[] }>('GET', '/v1/deployments?service=checkout')).body.items).toHaveLength(1);
  }, 180_000);
});

describe('where the connection comes from', () => {
  /** A contexts file in a fresh directory: `main` (this stack, admin token in a 0600 token-file), `narrow` (inline narrow token), `nowhere`. */
  function contextsFile(current: string): { path: string; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), 'crossfade-contexts-'));
    writeFileSync(join(dir, 'admin.token'), `${stack.adminToken}\n`, { mode: 0o600 });
    const path = join(dir, 'config.yaml');
    writeFileSync(
      path,
      [
        '# contexts for the CLI tests',
        `current-context: ${current}`,
        'contexts:',
        `  - name: main`,
        `    url: ${stack.url}`,
        `    token-file: admin.token`,
        `  - name: narrow`,
        `    url: ${stack.url}`,
        `    token: ${stack.narrowToken}`,
        `  - name: nowhere`,
        `    url: ${closedUrl}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return { path, dir };
  }

  it('the current context, then --context, CROSSFADE_CLI_CONFIG and --config; env over the context; flags over env', async () => {
    const { path } = contextsFile('main');
    const [viaFlag, viaEnv, otherContext, envOverContext, flagOverEnv, tokenFlagOverEnv, serversVariable] = await crossfadeAll([
      { args: ['--config', path, 'get', id, '-o', 'json'] },
      { args: ['get', id, '-o', 'json'], env: { CROSSFADE_CLI_CONFIG: path } },
      { args: ['get', id, '--context', 'narrow'], env: { CROSSFADE_CLI_CONFIG: path } },
      { args: ['get', id], env: { CROSSFADE_CLI_CONFIG: path, CROSSFADE_URL: closedUrl } },
      { args: ['get', id, '--url', stack.url, '-o', 'json'], env: { CROSSFADE_URL: closedUrl, CROSSFADE_TOKEN: stack.adminToken } },
      { args: ['get', id, '--token', stack.adminToken, '-o', 'json'], env: { CROSSFADE_URL: stack.url, CROSSFADE_TOKEN: stack.narrowToken } },
      // CROSSFADE_CONFIG is the server's crossfade.yaml: the CLI does not read it.
      { args: ['get', id], env: { CROSSFADE_CONFIG: path } },
    ]);
    for (const ok of [viaFlag, viaEnv, flagOverEnv, tokenFlagOverEnv]) {
      expect(ok!.code, ok!.stderr).toBe(0);
      expect(JSON.parse(ok!.stdout)).toMatchObject({ id });
    }
    failedWith(otherContext!, 4, /\(FORBIDDEN\)/);
    failedWith(envOverContext!, 4, new RegExp(`crossfade at ${closedUrl}`));
    failedWith(serversVariable!, 2, /no crossfade to talk to/);
  }, 120_000);

  it("a context's token goes only to its own URL", async () => {
    const { path } = contextsFile('narrow');
    const seen: (string | undefined)[] = [];
    const elsewhere: Server = createServer((request, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'not here' } }));
    });
    await new Promise<void>((listening) => elsewhere.listen(0, '127.0.0.1', listening));
    try {
      const result = await crossfade(['get', id, '--url', `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`], { CROSSFADE_CLI_CONFIG: path });
      failedWith(result, 5, /not here \(NOT_FOUND\)/);
      expect(seen).toEqual([undefined]);
    } finally {
      await new Promise((closed) => elsewhere.close(closed));
    }
  }, 60_000);

  it('config get-contexts, use-context, current-context: the file kept as written, tokens never shown; an open token file is warned about', async () => {
    const { path, dir } = contextsFile('main');
    const env = { CROSSFADE_CLI_CONFIG: path };
    const listed = await crossfade(['config', 'get-contexts', '-o', 'json'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({
      currentContext: 'main',
      contexts: [
        { name: 'main', current: true, url: stack.url, token: 'file admin.token' },
        { name: 'narrow', current: false, url: stack.url, token: 'inline' },
        { name: 'nowhere', current: false, url: closedUrl, token: 'none' },
      ],
    });
    const table = await crossfade(['config', 'get-contexts'], env);
    expect(table.stdout).toMatch(/^\* main /m);
    for (const output of [listed.stdout, table.stdout]) for (const token of [stack.adminToken, stack.narrowToken]) expect(output).not.toContain(token);

    const used = await crossfade(['config', 'use-context', 'nowhere'], env);
    expect([used.code, used.stdout]).toEqual([0, '']);
    expect(readFileSync(path, 'utf8')).toContain('# contexts for the CLI tests');
    expect((await crossfade(['config', 'current-context'], env)).stdout).toBe('nowhere\n');
    failedWith(await crossfade(['config', 'use-context', 'mars'], env), 2, /^crossfade: no context named mars in .+ \(it has main, narrow, nowhere\)\n$/);
    failedWith(await crossfade(['get', id], env), 4, new RegExp(`crossfade at ${closedUrl}`));

    chmodSync(join(dir, 'admin.token'), 0o644);
    const warned = await crossfade(['get', id, '--context', 'main', '-o', 'json'], env);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toBe(`crossfade: warning: ${join(dir, 'admin.token')} holds a token and is open to other users (mode 0644): run chmod 600 ${join(dir, 'admin.token')}\n`);
  }, 120_000);
});
