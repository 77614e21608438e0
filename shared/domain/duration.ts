/** Durations as Argo Rollouts writes them: `30s`, `5m`, `1h`, `1h30m`, `1h30m15s`. */
const DURATION = /^(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?$/;

export const DURATION_RULE = 'a duration such as 30s, 5m, 1h or 1h30m';

/** Seconds, or undefined when the text is not a duration (or is zero). */
export function parseDurationSeconds(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  const [, hours, minutes, seconds] = match;
  const total = Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0);
  return total > 0 ? total : undefined;
}
