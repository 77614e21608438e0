/**
 * Issue 9's acceptance for `watch`: the real watch (test/support/watch-driver.ts, which calls
 * cli/watch/watch.ts as the command does) follows deployments run by a real `npm start` with a real
 * HAProxy (test/support/watch-stack.ts). On a pseudo-terminal (`script`), the frames it draws in
 * place, replayed on a virtual screen, show the step advancing, the weights changing and the final
 * state, and Ctrl-C leaves the cursor shown; on a pipe it prints one plain line per change and
 * exits with the deployment's code; an unknown id ends it at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/local-process.js';
import { VirtualTerminal } from '../support/virtual-terminal.js';
import { startWatchStack, WATCH_TEMPLATE, type WatchStack } from '../support/watch-stack.js';

// Bounds, not expectations: a run takes seconds alone, far longer beside other suites on two cores.
const RUN_TIMEOUT_MS = 180_000;
const ESC = String.fromCharCode(27);

let stack: WatchStack;

beforeAll(async () => {
  stack = await startWatchStack({ waitMs: 1000, failingVersion: 'v3' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

interface Watcher {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** The driver on a pseudo-terminal (`script`: its stdin is the terminal's keyboard) or on pipes. */
function watch(id: string, terminal: boolean): Watcher {
  const driver = [process.execPath, '--import', 'tsx', 'test/support/watch-driver.ts', stack.url, stack.token, id, '--interval-ms', '150', ...(terminal ? ['--tty'] : [])];
  const child = terminal ? spawn('script', ['-qfec', driver.join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] }) : spawn(driver[0]!, driver.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitForOutput(watcher: Watcher, text: string): Promise<void> {
  await waitFor(async () => watcher.stdout().includes(text), RUN_TIMEOUT_MS, `"${text}" in the watch's output:\n${watcher.stdout().slice(-3000)}`);
}

async function statusOf(id: string): Promise<string> {
  return (await stack.call<{ status: string }>('GET', `/v1/deployments/${id}`)).body.status;
}

/** What a frame says: its status, the step marked ▶, and the canary's share on aws. */
function readFrame(frame: string): { status: string; step: number | null; aws: number } {
  return {
    status: /^checkout {2}\S+ → \S+ {3}(\S+)/.exec(frame)?.[1] ?? '?',
    step: Number(/▶ (\d+) /.exec(frame)?.[1]) || null,
    aws: Number(/^ {2}aws +\S+ +(\d+)%$/m.exec(frame)?.[1] ?? NaN),
  };
}

function nonDecreasing(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value >= values[i - 1]!);
}

describe('crossfade watch', () => {
  it('on a terminal: redraws one frame in place as the step advances and the weights change, and ends on the final state with exit 0', async () => {
    const id = await stack.deploy([{ setWeight: 20 }, { pause: {} }, { analysis: { template: WATCH_TEMPLATE, interval: '10s', count: 1 } }, { setWeight: 100 }]);
    const watcher = watch(id, true);
    // The gate holds the run until the watch has drawn it: the sequence cannot skip it.
    await waitForOutput(watcher, '▶ 2 pause until promoted');
    expect((await stack.call('POST', `/v1/deployments/${id}/promote`, { reason: 'seen in the watch' })).status).toBe(200);
    expect(await watcher.exited).toBe(0);

    const screen = new VirtualTerminal();
    screen.write(watcher.stdout());
    const frames = screen.frames.map(readFrame);
    expect(frames.length).toBeGreaterThanOrEqual(3);
    const steps = frames.map((f) => f.step).filter((step): step is number => step !== null);
    expect(steps).toContain(2);
    expect(nonDecreasing(steps)).toBe(true);
    expect(new Set(steps).size).toBeGreaterThanOrEqual(2);
    const weights = frames.map((f) => f.aws);
    expect(weights).toContain(20);
    expect(nonDecreasing(weights)).toBe(true);
    expect(frames.at(-1)).toEqual({ status: 'SUCCEEDED', step: null, aws: 100 });

    const last = screen.screen();
    expect(last).toBe(screen.frames.at(-1));
    expect(last).toMatch(/^ {2}✓ 1 setWeight 20%\n {2}✓ 2 pause until promoted\n {2}✓ 3 analysis golden: 1 judgment, every 10s\n {2}✓ 4 setWeight 100%$/m);
    expect(last).toMatch(/^ {2}edge-use1 +█{30} 100% {2}converged$/m);
    expect(last).toMatch(/^ {2}envoy-usc1 +█{30} 100% {2}unverified \(lists no proxies\)$/m);
    expect(last).toMatch(/^Judgment at \d\d:\d\d:\d\d: score 100 Pass/m);
    expect(last).toMatch(/^ {2}error-ratio {2}Pass {2}errors 100 {2}canary\/baseline 1\.00$/m);
    // The operator's promote among the events (later events push it out of the last frame's five).
    expect(screen.frames.some((frame) => / {2}promote {2}step 3\/4 \S+ by local-admin: seen in the watch$/m.test(frame))).toBe(true);
    // In place: the output is one frame high, not every frame one after the other; the cursor came back.
    expect(screen.height).toBe(last.split('\n').length);
    expect(screen.cursorChanges).toEqual(['hide', 'show']);
  }, RUN_TIMEOUT_MS);

  it('on a pipe: one plain line per change, and a rollback exits 1', async () => {
    const id = await stack.deploy([{ setWeight: 20 }, { pause: {} }, { analysis: { template: WATCH_TEMPLATE, interval: '10s', count: 1 } }, { setWeight: 100 }], 'v3');
    const watcher = watch(id, false);
    await waitForOutput(watcher, 'waiting for promote (manual gate)');
    expect((await stack.call('POST', `/v1/deployments/${id}/promote`, {})).status).toBe(200);
    expect(await watcher.exited).toBe(1);

    const output = watcher.stdout();
    expect(output).not.toContain(ESC);
    const lines = output.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(/^\d\d:\d\d:\d\d (NOT_STARTED|RUNNING|TERMINAL) step \d\/4 weight (\d+%|aws \d+% gcp \d+%) \S/);
    const states = lines.map((line) => line.slice(9));
    expect(states.every((state, i) => i === 0 || state !== states[i - 1])).toBe(true);
    expect(lines.some((line) => / RUNNING step 2\/4 weight 20% waiting for promote \(manual gate\)/.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/ TERMINAL step 3\/4 weight 0% rolled back at step 3\/4: analysis 3\/4 failed: judgment 1 scored 0/);
  }, RUN_TIMEOUT_MS);

  it('Ctrl-C on a terminal stops the watch, not the deployment, and leaves the cursor shown', async () => {
    const id = await stack.deploy([{ setWeight: 10 }, { pause: {} }], 'v3');
    const watcher = watch(id, true);
    await waitForOutput(watcher, '▶ 2 pause until promoted');
    watcher.child.stdin!.write('\u0003');
    expect(await watcher.exited).toBe(130);
    const screen = new VirtualTerminal();
    screen.write(watcher.stdout());
    expect(screen.cursorChanges).toEqual(['hide', 'show']);
    expect(screen.cursorVisible).toBe(true);
    expect(await statusOf(id)).toBe('RUNNING');
    expect((await stack.call('POST', `/v1/deployments/${id}/cancel`, { reason: 'watch test done' })).status).toBe(200);
    await waitFor(async () => (await statusOf(id)) === 'CANCELED', RUN_TIMEOUT_MS, 'the cancel');
  }, RUN_TIMEOUT_MS);

  it('an unknown deployment ends the watch at once with NotFoundError', async () => {
    const watcher = watch('dep_nobodyhasthisid', false);
    expect(await watcher.exited).toBe(5);
    expect(watcher.stderr()).toContain('crossfade: NotFoundError: deployment dep_nobodyhasthisid does not exist');
    expect(watcher.stdout()).toBe('');
  }, RUN_TIMEOUT_MS);
});
