/**
 * The watch's frame, on documents recorded from real runs (recorded.ts): the plan with the current
 * step marked, the weights as bars per cloud and per proxy group, each group's convergence, the
 * last judgment per metric, the last events, time left in a hold, and what could not be read.
 */
import { describe, expect, it } from 'vitest';
import { bar, formatClock, formatDuration } from '../../../../cli/watch/format.js';
import { renderFrame } from '../../../../cli/watch/frame.js';
import type { WatchView } from '../../../../cli/watch/view.js';
import { recorded, section } from './recorded.js';

const plain = { color: false, intervalMs: 2000 };
const CANARY = (cells: number) => '█'.repeat(cells) + '░'.repeat(30 - cells);

function frameOf(view: WatchView, now: Date): string {
  return renderFrame(view, now, plain);
}

/** `seconds` after the hold of the recorded document began. */
function intoHold(view: WatchView, seconds: number): Date {
  return new Date(Date.parse(view.deployment.hold!.since) + seconds * 1000);
}

describe('the frame', () => {
  it('marks the steps done, the current one and the ones ahead, and says what a plan step is', () => {
    const { view, at } = recorded('timed-pause');
    expect(section(frameOf(view, at), 'Plan')).toEqual([
      'Plan',
      '  ✓ 1 setWeight 20% on gcp',
      '  ▶ 2 pause 30s',
      '    3 pause until promoted',
      '    4 analysis golden: 2 judgments, every 10s',
      '    5 setWeight 100%',
    ]);
    const gate = recorded('manual-gate');
    expect(section(frameOf(gate.view, gate.at), 'Plan').slice(1, 4)).toEqual(['  ✓ 1 setWeight 20% on gcp', '  ✓ 2 pause 30s', '  ▶ 3 pause until promoted']);
  });

  it('says who, what and for how long, and the time left in a timed hold', () => {
    const { view } = recorded('timed-pause');
    const header = frameOf(view, intoHold(view, 12.3)).split('\n')[0]!;
    expect(header).toMatch(/^checkout {2}v1 → v2 {3}RUNNING PAUSED {3}elapsed \d+s {3}pause ends in 17s$/);
    expect(frameOf(view, intoHold(view, 31)).split('\n')[0]).toMatch(/ {3}pause ends now$/);
    expect(frameOf(view, intoHold(view, 0)).split('\n')[1]).toBe(view.deployment.progress);

    const judged = recorded('judged').view;
    expect(frameOf(judged, intoHold(judged, 4)).split('\n')[0]).toMatch(/ {3}next judgment in 6s$/);
    const gate = recorded('manual-gate').view;
    expect(frameOf(gate, intoHold(gate, 600)).split('\n')[0]).toMatch(/elapsed \d+m\d\ds {3}waiting for promote$/);
  });

  it('says which rules hold a HELD run and when they would allow, or when they are asked again', () => {
    const { view } = recorded('timed-pause');
    const since = view.deployment.hold!.since;
    const allowedAt = new Date(Date.parse(since) + 90_000).toISOString();
    const held = { ...view, deployment: { ...view.deployment, phase: 'HELD' as const, heldBy: { rules: ['xmas-freeze'], reason: 'freeze', since, until: allowedAt } } };
    expect(frameOf(held, intoHold(held, 30)).split('\n')[0]).toMatch(/RUNNING HELD {3}elapsed \d+s {3}held by xmas-freeze: allowed in 1m00s$/);
    const byService = { ...held, deployment: { ...held.deployment, heldBy: { ...held.deployment.heldBy, rules: ['change-board'], until: null } } };
    expect(frameOf(byService, intoHold(byService, 10)).split('\n')[0]).toMatch(/held by change-board: asked again in 20s$/);
  });

  it('draws the canary share per cloud and per proxy group as bars, with each group converged or unverified', () => {
    const { view, at } = recorded('timed-pause');
    expect(section(frameOf(view, at), 'Traffic per cloud')).toEqual([
      'Traffic per cloud   █ canary v2  ░ baseline v1',
      `  aws         ${CANARY(0)}   0%`,
      `  gcp         ${CANARY(6)}  20%`,
      'Proxy groups',
      `  edge-use1   ${CANARY(0)}   0%  converged`,
      `  envoy-usc1  ${CANARY(6)}  20%  unverified (lists no proxies)`,
    ]);
    const done = recorded('succeeded');
    expect(section(frameOf(done.view, done.at), 'Traffic per cloud').slice(1)).toEqual([`  aws         ${CANARY(30)} 100%`, `  gcp         ${CANARY(30)} 100%`, 'Proxy groups', `  edge-use1   ${CANARY(30)} 100%  converged`, `  envoy-usc1  ${CANARY(30)} 100%  unverified (lists no proxies)`]);
  });

  it('says how many nodes a group waits on, and why a group could not be asked', () => {
    const { view, at } = recorded('timed-pause');
    const lagging = [
      { proxy: 'edge-1', reason: 'server v2_127.0.0.1_20002 has weight 0, expected 20' },
      { proxy: 'edge-2', reason: 'unreachable' },
    ];
    const service = { ...view.service!, verification: { 'edge-use1': { state: 'pending' as const, lagging }, 'envoy-usc1': { state: 'unknown' as const, reason: 'DependencyUnavailableError: store down' } } };
    const groups = section(frameOf({ ...view, service }, at), 'Proxy groups');
    expect(groups[1]).toBe(`  edge-use1   ${CANARY(0)}   0%  waiting on 2 nodes (edge-1: server v2_127.0.0.1_20002 has weight 0, expected 20)`);
    expect(groups[2]).toBe(`  envoy-usc1  ${CANARY(6)}  20%  unknown: DependencyUnavailableError: store down`);
    expect(section(frameOf({ ...view, service: null }, at), 'Proxy groups')).toEqual(['Proxy groups', '  reading…']);
  });

  it('shows the last judgment: its score and classification, and per metric its classification, its group score and ratio', () => {
    const { view, at } = recorded('judged');
    const judgment = section(frameOf(view, at), 'Judgment');
    expect(judgment).toEqual([
      `Judgment at ${formatClock(view.judgment!.at)}: score 100 Pass  pass ≥ 70, ends ≤ 50`,
      '  error-ratio  Pass  errors 100  canary/baseline 1.00',
      '  p99-latency  Pass  latency 100  canary/baseline 1.00',
    ]);
    const failed = recorded('rolled-back');
    const lines = section(frameOf(failed.view, failed.at), 'Judgment');
    expect(lines[0]).toMatch(/: score 0 Fail {2}pass ≥ 70, ends ≤ 50 \(Canary Failed: .+…$/);
    expect([...lines[0]!]).toHaveLength(100);
    expect(lines.slice(1)).toEqual(['  error-ratio  High  errors 0  canary/baseline 27.36  (critical)', '  p99-latency  Pass  latency 100  canary/baseline 1.00']);
    // Before the first judgment of a plan that has analysis steps.
    const early = recorded('timed-pause');
    expect(section(frameOf(early.view, early.at), 'Judgment')).toEqual(['Judgment  none yet']);
  });

  it('marks where an unsuccessful end stopped, and every step of a promotion as done', () => {
    const failed = recorded('rolled-back');
    const frame = frameOf(failed.view, failed.at);
    expect(frame.split('\n')[0]).toMatch(/^checkout {2}v2 → v3 {3}TERMINAL ROLLED_BACK {3}took \d+s$/);
    expect(section(frame, 'Plan')).toEqual(['Plan', '  ✓ 1 setWeight 20%', '  ✗ 2 analysis golden: 2 judgments, every 10s', '    3 setWeight 100%']);
    const done = recorded('succeeded');
    const plan = section(frameOf(done.view, done.at), 'Plan');
    expect(plan.slice(1).every((line) => line.startsWith('  ✓ '))).toBe(true);
    expect(frameOf(done.view, done.at).split('\n')[0]).toMatch(/^checkout {2}v1 → v2 {3}SUCCEEDED {3}took \d+s$/);
  });

  it('lists the last five events, oldest first, with step, phase, who (when not the run) and a shortened reason', () => {
    const { view, at } = recorded('rolled-back');
    const events = section(frameOf(view, at), 'Events');
    expect(events).toHaveLength(6);
    expect(events.slice(1).map((line) => line.slice(12).split(' ')[0])).toEqual(view.events.slice(-5).map((e) => e.action.replace('deployment.', '')));
    expect(events.at(-1)).toMatch(/^ {2}\d\d:\d\d:\d\d {2}(rollback|release) +step 2\/3 ROLLED_BACK: analysis 2\/3 failed: .+…$/);
    expect([...events.at(-1)!]).toHaveLength(100);
    const first = recorded('timed-pause');
    expect(section(frameOf(first.view, first.at), 'Events')[1]).toMatch(/^ {2}\d\d:\d\d:\d\d {2}created {2}by local-admin: watch test$/);
  });

  it('shows what could not be read, since when and how often, while it is retried', () => {
    const { view, at } = recorded('judged');
    const trouble = { deployment: { message: '503 UNAVAILABLE: DynamoDB table crossfade: read deployment failed', since: at.toISOString(), attempts: 3 } };
    expect(frameOf({ ...view, trouble }, at).split('\n')[3]).toBe(`! cannot read the deployment since ${formatClock(at)} (3 attempts): 503 UNAVAILABLE: DynamoDB table crossfade: read deployment failed; retrying every 2s`);
  });

  it('colours only when asked', () => {
    const { view, at } = recorded('judged');
    expect(frameOf(view, at)).not.toContain('\u001B');
    expect(renderFrame(view, at, { ...plain, color: true })).toContain('\u001B[32mPass\u001B[39m');
  });

  it('shows the step counter when the server sends no plan (a crossfade from before it did)', () => {
    const { view, at } = recorded('timed-pause');
    const { plan: _plan, hold: _hold, ...older } = view.deployment;
    const frame = frameOf({ ...view, deployment: older as typeof view.deployment }, at);
    expect(frame).toContain('Plan  step 2 of 5');
    expect(frame.split('\n')[0]).toMatch(/elapsed \d+s$/);
  });
});

describe('frame pieces', () => {
  it('formats durations with their two largest units and clock times in local time', () => {
    expect([0, 45_900, 185_000, 7_380_000].map(formatDuration)).toEqual(['0s', '45s', '3m05s', '2h03m']);
    expect(formatClock(new Date(2026, 0, 2, 3, 4, 5))).toBe('03:04:05');
  });

  it('gives any traffic at least one cell and anything short of all of it one baseline cell', () => {
    const c = { cyan: (s: string) => s, dim: (s: string) => s } as Parameters<typeof bar>[1];
    expect(bar(1, c, 10)).toBe('█░░░░░░░░░');
    expect(bar(99, c, 10)).toBe('█████████░');
    expect(bar(50, c, 10)).toBe('█████░░░░░');
    expect(bar(0, c, 10)).toBe('░░░░░░░░░░');
    expect(bar(100, c, 10)).toBe('██████████');
  });
});

describe('the frame on a narrow terminal', () => {
  it('cuts the long lines (progress, judgment and event reasons) to the width instead of wrapping them', () => {
    for (const name of ['timed-pause', 'judged', 'rolled-back'] as const) {
      const { view, at } = recorded(name);
      const lines = renderFrame(view, at, { ...plain, width: 80 }).split('\n');
      expect(lines.filter((line) => [...line].length > 80)).toEqual([]);
    }
    const { view, at } = recorded('rolled-back');
    expect(renderFrame(view, at, { ...plain, width: 80 }).split('\n')[1]).toBe(`${[...view.deployment.progress].slice(0, 79).join('')}…`);
  });
});
