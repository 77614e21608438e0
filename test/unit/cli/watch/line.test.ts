/** The watch off a terminal: one plain line per change (line.ts), on recorded documents. */
import { describe, expect, it } from 'vitest';
import { formatClock } from '../../../../cli/watch/format.js';
import { lineState, renderLine } from '../../../../cli/watch/line.js';
import { recorded } from './recorded.js';

describe('the line', () => {
  it('says time, status, step, the canary weight per cloud when clouds differ, and the progress without its step again', () => {
    const { view, at } = recorded('timed-pause');
    const until = view.deployment.hold!.until!;
    expect(renderLine(view.deployment, at)).toBe(`${formatClock(at)} RUNNING step 2/5 weight aws 0% gcp 20% pause, 0s of 30s waited, until ${until} [unverified: envoy-usc1]`);
  });

  it('gives one weight when every cloud has it, and the end with its reason', () => {
    expect(lineState(recorded('succeeded').view.deployment)).toBe('SUCCEEDED step 5/5 weight 100% promoted: v2 serves 100% [unverified: envoy-usc1]');
    expect(lineState(recorded('rolled-back').view.deployment)).toMatch(/^TERMINAL step 2\/3 weight 0% rolled back at step 2\/3: analysis 2\/3 failed: judgment 1 scored 0/);
  });

  it('changes exactly when the document says something new', () => {
    const { view } = recorded('judged');
    expect(lineState({ ...view.deployment, updatedAt: new Date(0).toISOString() })).toBe(lineState(view.deployment));
    expect(lineState({ ...view.deployment, progress: 'step 4/5: analysis 2/2' })).not.toBe(lineState(view.deployment));
    expect(renderLine(view.deployment, new Date())).not.toContain('\u001B');
  });
});
