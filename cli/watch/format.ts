/** Small text pieces the watch's frame and lines share: durations, clock times, bars. Pure. */
import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

export function colorsFor(enabled: boolean): Colors {
  return picocolors.createColors(enabled);
}

/** `45s`, `3m05s`, `2h03m`: whole seconds, the two largest units. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** `HH:MM:SS` in the operator's time zone. */
export function formatClock(at: Date | string): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export const BAR_WIDTH = 30;

/**
 * The canary's share as a bar: `█` for the canary, `░` for the baseline. Rounded so that any
 * traffic at all shows at least one cell, and anything short of all of it leaves one baseline cell.
 */
export function bar(canaryPercent: number, colors: Colors, width = BAR_WIDTH): string {
  const exact = (Math.min(100, Math.max(0, canaryPercent)) / 100) * width;
  const cells = canaryPercent > 0 && canaryPercent < 100 ? Math.min(width - 1, Math.max(1, Math.round(exact))) : Math.round(exact);
  return colors.cyan('█'.repeat(cells)) + colors.dim('░'.repeat(width - cells));
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The longest of `names`, for a column. */
export function columnWidth(names: readonly string[]): number {
  return names.reduce((width, name) => Math.max(width, name.length), 0);
}

/** At most `max` characters, `…` marking a cut: the frame keeps one line per event. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
