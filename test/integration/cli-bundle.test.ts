/**
 * The run-job image's command, without a container runtime: the CLI bundle is built by the same
 * function `npm run build` calls into a fresh build context outside the checkout (so no
 * node_modules can be reached from it, as in the image), and the Dockerfile's ENTRYPOINT and CMD
 * are run as the image would run them, with Node 22. That it deploys against a real `npm start` is
 * test/integration/spinnaker-run-job.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, CLI_BUNDLE } from '../../scripts/cli-bundle.js';
import { copies, execForm, localImageCommand, NODE_22, node22Version, readDockerfile, ROOT } from '../support/run-job-image.js';

const run = promisify(execFile);
let context: string;

beforeAll(async () => {
  context = mkdtempSync(join(tmpdir(), 'crossfade-image-context-'));
  // esbuild resolves the entry and its imports from the checkout; the output goes to the context.
  await buildCliBundle(join(context, CLI_BUNDLE));
}, 120_000);

afterAll(() => {
  rmSync(context, { recursive: true, force: true });
});

describe('the CLI bundle the image copies', () => {
  it('is where the Dockerfile copies it from, outside any node_modules tree', () => {
    for (const { sources } of copies(readDockerfile())) for (const source of sources) expect(existsSync(join(context, source)), source).toBe(true);
    expect(context.startsWith(ROOT)).toBe(false);
  });

  it('the image\'s command (ENTRYPOINT + CMD) runs under Node 22 from the bundle alone, once', async () => {
    expect(node22Version()).toMatch(/^v22\./);
    const instructions = readDockerfile();
    const [node, ...args] = [...localImageCommand(instructions, context), ...execForm(instructions, 'CMD')];
    expect(args[0]).toBe(join(context, CLI_BUNDLE));
    const { stdout, stderr } = await run(node!, args, { cwd: context, env: { PATH: '/usr/bin:/bin', NO_COLOR: '1' } });
    const output = stdout + stderr;
    expect(output).toContain('token');
    expect(output.match(/usage:/gi)).toHaveLength(1);
  });

  it('its entry runs main() once and exits with its code, although a bundled main.ts that runs itself when it is the script would run too', async () => {
    // cli/bundle-entry.ts bundled as the real build does, with test/support/self-running-main.ts as its main.ts.
    const outfile = join(context, 'entry-check', 'crossfade.mjs');
    const standIn = join(ROOT, 'test', 'support', 'self-running-main.ts');
    await build({
      entryPoints: [join(ROOT, 'cli', 'bundle-entry.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'error',
      plugins: [{ name: 'stand-in-main', setup: (b) => b.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: standIn })) }],
    });
    const runs = join(context, 'entry-check', 'runs');
    const exit = await run(NODE_22, [outfile, runs]).then(
      () => 0,
      (error: { code: number }) => error.code,
    );
    expect(exit).toBe(7);
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
  });
});
