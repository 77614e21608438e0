/**
 * Where the watch's view goes. On a terminal: one frame redrawn in place (log-update), the cursor
 * hidden meanwhile and shown again however the watch ends, Ctrl-C included. Elsewhere: one line per
 * change and not one escape code, for pipes and CI logs.
 */
import type { Writable } from 'node:stream';
import { createLogUpdate } from 'log-update';
import { renderFrame } from './frame.js';
import { lineState, renderLine, renderTroubleLine } from './line.js';
import { formatClock } from './format.js';
import type { Trouble, WatchView } from './view.js';

export interface Painter {
  /** The view as of `now` (a terminal repaints it even unchanged: times move on). */
  paint(view: WatchView, now: Date): void;
  /** Nothing to show yet: the deployment could not be read at all so far. */
  waiting(target: string, trouble: Trouble, now: Date): void;
  /** Leaves the output as it is and the terminal as it was found. Safe to call twice. */
  end(): void;
}

const HIDE_CURSOR = '\u001B[?25l';
const SHOW_CURSOR = '\u001B[?25h';

/** A terminal that reports no size (a pseudo-terminal nobody sized) gets these rather than a frame of width 0. */
const FALLBACK_COLUMNS = 100;
const FALLBACK_ROWS = 60;

export function terminalPainter(out: Writable & { columns?: number; rows?: number }, options: { color: boolean; intervalMs: number }): Painter {
  // log-update reads the stream's size on every frame; it hides the cursor on stderr unless told not to, so the cursor is handled here, on `out`.
  const screen = {
    write: (text: string) => out.write(text),
    get columns() {
      return out.columns || FALLBACK_COLUMNS;
    },
    get rows() {
      return out.rows || FALLBACK_ROWS;
    },
    isTTY: true,
  };
  const log = createLogUpdate(screen as unknown as NodeJS.WriteStream, { showCursor: true });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    log.done();
    out.write(SHOW_CURSOR);
    process.removeListener('SIGINT', interrupted);
    process.removeListener('exit', end);
  };
  // Ctrl-C: the terminal is put back first; then, unless the program handles SIGINT itself (it
  // then ends the watch through its AbortSignal), the signal is raised again to end the process as it would have.
  const interrupted = () => {
    end();
    out.write('\n');
    if (process.listenerCount('SIGINT') === 0) process.kill(process.pid, 'SIGINT');
  };
  process.on('SIGINT', interrupted);
  process.on('exit', end);
  out.write(HIDE_CURSOR);
  return {
    paint: (view, now) => log(renderFrame(view, now, { ...options, width: screen.columns })),
    waiting: (target, trouble) => log(`waiting for ${target}: ${trouble.message} (since ${formatClock(trouble.since)}, ${trouble.attempts} attempts; retrying)`),
    end,
  };
}

export function linePainter(out: Writable): Painter {
  let last: string | undefined;
  let lastTrouble: string | undefined;
  const troubleLine = (trouble: Trouble | undefined, now: Date) => {
    // One line when reads start failing or fail differently; the next document's line says they work again.
    if (trouble === undefined || trouble.message === lastTrouble) return;
    lastTrouble = trouble.message;
    out.write(`${renderTroubleLine(trouble, now)}\n`);
  };
  return {
    paint(view, now) {
      troubleLine(view.trouble.deployment, now);
      if (view.trouble.deployment === undefined) lastTrouble = undefined;
      const state = lineState(view.deployment);
      if (state === last) return;
      last = state;
      out.write(`${renderLine(view.deployment, now)}\n`);
    },
    waiting: (_target, trouble, now) => troubleLine(trouble, now),
    end: () => undefined,
  };
}
