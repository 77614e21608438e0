/**
 * The watch's frame on a terminal (docs/watch.md): header, plan, traffic and convergence, the last
 * judgment, the last events, and what could not be read. Pure: the same view and time give the
 * same text, so the frame is tested on recorded documents.
 */
import { formatClock, plural, colorsFor, type Colors } from './format.js';
import { eventLines, judgmentLines } from './frame-judgment.js';
import { headerLines, planLines } from './frame-plan.js';
import { trafficLines } from './frame-traffic.js';
import type { Source, Trouble, WatchView } from './view.js';

export interface FrameOptions {
  color: boolean;
  /** Between polls, for the retry notice. */
  intervalMs: number;
  /** The terminal's columns: the lines that can be long (progress, event reasons) are cut to fit rather than wrapped. */
  width?: number;
}

const DEFAULT_WIDTH = 100;

export function renderFrame(view: WatchView, now: Date, options: FrameOptions): string {
  const c = colorsFor(options.color);
  const width = options.width ?? DEFAULT_WIDTH;
  const sections = [
    headerLines(view.deployment, now, c, width),
    troubleLines(view.trouble, options.intervalMs, c),
    planLines(view.deployment, c),
    trafficLines(view.deployment, view.service, view.trouble.service, c),
    judgmentLines(view.deployment, view.judgment, c, width),
    eventLines(view.deployment, view.events, c, width),
  ];
  return sections
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.join('\n'))
    .join('\n\n');
}

const SOURCE_NAMES: Record<Source, string> = { deployment: 'the deployment', events: 'its events', service: 'the service' };

function troubleLines(trouble: WatchView['trouble'], intervalMs: number, c: Colors): string[] {
  return (Object.entries(trouble) as [Source, Trouble][]).map(
    ([source, t]) => c.red(`! cannot read ${SOURCE_NAMES[source]} since ${formatClock(t.since)} (${plural(t.attempts, 'attempt')}): ${t.message}; retrying every ${Math.max(1, Math.round(intervalMs / 1000))}s`),
  );
}
