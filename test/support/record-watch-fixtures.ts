/**
 * Records what the watch reads, from real runs on the watch stack (test/support/watch-stack.ts),
 * for the frame's unit tests (test/unit/cli/watch/fixtures/): at a timed pause, at a manual gate,
 * after a judgment, promoted, and rolled back by a failing judgment. Each file holds the status
 * document, every event so far and the service view, and the time they were read. Then the real
 * watch follows one more run on a pseudo-terminal, and two of its frames, as the screen showed
 * them, become docs/watch-example.txt.
 * Run again after the API or the frame changes: `PATH=$PATH:/usr/sbin npx tsx test/support/record-watch-fixtures.ts`.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusDocument } from '../../shared/http/status-document.js';
import { sleep } from './local-process.js';
import { VirtualTerminal } from './virtual-terminal.js';
import { startWatchStack, WATCH_TEMPLATE, type WatchStack } from './watch-stack.js';

const DIR = join(import.meta.dirname, '..', 'unit', 'cli', 'watch', 'fixtures');
const EXAMPLE = join(import.meta.dirname, '..', '..', 'docs', 'watch-example.txt');

interface Snapshot {
  at: string;
  deployment: StatusDocument;
  events: unknown[];
  service: unknown;
}

/** `when` names the file to save the first snapshot it accepts under. */
type Wanted = Record<string, (s: Snapshot) => boolean>;

async function snapshot(stack: WatchStack, id: string): Promise<Snapshot> {
  const deployment = (await stack.call<StatusDocument>('GET', `/v1/deployments/${id}`)).body;
  const events: unknown[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = (await stack.call<{ items: unknown[]; nextCursor: string | null }>('GET', `/v1/deployments/${id}/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).body;
    events.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const service = (await stack.call('GET', `/v1/services/${deployment.service}`)).body;
  return { at: new Date().toISOString(), deployment, events, service };
}

async function follow(stack: WatchStack, id: string, wanted: Wanted, onSnapshot: (s: Snapshot) => Promise<void> = async () => undefined): Promise<void> {
  const left = new Map(Object.entries(wanted));
  for (;;) {
    const s = await snapshot(stack, id);
    for (const [name, accepts] of left) {
      if (!accepts(s)) continue;
      writeFileSync(join(DIR, `${name}.json`), `${JSON.stringify(s, null, 2)}\n`);
      console.log(`recorded ${name}.json`);
      left.delete(name);
    }
    await onSnapshot(s);
    if (['SUCCEEDED', 'TERMINAL', 'CANCELED'].includes(s.deployment.status)) break;
    await sleep(50);
  }
  if (left.size > 0) throw new Error(`not seen: ${[...left.keys()].join(', ')}`);
}

const stepKind = (s: Snapshot) => s.deployment.plan[s.deployment.step.index]?.kind;
const judged = (s: Snapshot) => s.events.some((e) => (e as { action: string }).action === 'deployment.judge');

const stack = await startWatchStack({ waitMs: 1500, failingVersion: 'v3' });
try {
  const analysis = { analysis: { template: WATCH_TEMPLATE, interval: '10s', count: 2 } };
  const promoted = await stack.deploy([{ setWeight: 20, wave: ['gcp'] }, { pause: { duration: '30s' } }, { pause: {} }, analysis, { setWeight: 100 }]);
  let promoteSent = false;
  await follow(
    stack,
    promoted,
    {
      'timed-pause': (s) => s.deployment.hold?.kind === 'wait' && stepKind(s) === 'pause',
      'manual-gate': (s) => s.deployment.hold?.kind === 'gate',
      judged: (s) => s.deployment.status === 'RUNNING' && judged(s) && s.deployment.hold?.kind === 'wait',
      succeeded: (s) => s.deployment.status === 'SUCCEEDED',
    },
    async (s) => {
      if (s.deployment.hold?.kind !== 'gate' || promoteSent) return;
      promoteSent = true;
      await stack.call('POST', `/v1/deployments/${promoted}/promote`, { reason: 'looks good' });
    },
  );
  const rolledBack = await stack.deploy([{ setWeight: 20 }, analysis, { setWeight: 100 }], 'v3');
  await follow(stack, rolledBack, { 'rolled-back': (s) => s.deployment.status === 'TERMINAL' });
  await recordExample(stack);
} finally {
  await stack.stop();
}

/** The watch on a pseudo-terminal of 100 columns, from a canary on GCP first to its promotion. */
async function recordExample(stack: WatchStack): Promise<void> {
  const id = await stack.deploy([{ setWeight: 25, wave: ['gcp'] }, { analysis: { template: WATCH_TEMPLATE, interval: '10s', count: 2 } }, { setWeight: 50 }, { pause: { duration: '10m' } }, { setWeight: 100 }], 'v1');
  const driver = [process.execPath, '--import', 'tsx', 'test/support/watch-driver.ts', stack.url, stack.token, id, '--tty', '--interval-ms', '200'].join(' ');
  // Not execFileSync: the fake Prometheus answering the judge lives in this process's event loop.
  const child = spawn('script', ['-qfec', `stty cols 100 rows 60; ${driver}`, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await new Promise((resolve) => child.once('exit', resolve));
  const screen = new VirtualTerminal();
  screen.write(output);
  const judged = screen.frames.filter((frame) => /RUNNING/.test(frame.split('\n')[0]!) && frame.includes('Judgment at')).at(0);
  if (!judged) throw new Error(`no frame with a judgment while running:\n${screen.frames.join('\n---\n')}`);
  writeFileSync(EXAMPLE, `$ npx crossfade watch ${id}\n\n${judged}\n\n… redrawn in place until it ends:\n\n${screen.screen()}\n`);
  console.log('recorded docs/watch-example.txt');
}
