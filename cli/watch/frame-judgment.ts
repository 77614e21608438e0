/** The frame's last judgment (score, and per metric its classification and its group's score) and its last events. Pure. */
import type { MetricLabel, ScoreClassification } from '../../shared/domain/judge/types.js';
import type { StatusDocument } from '../../shared/http/status-document.js';
import type { AuditEvent } from '../../shared/ports/audit-log.js';
import { columnWidth, formatClock, truncate, type Colors } from './format.js';
import type { Judgment } from './view.js';

export const EVENTS_SHOWN = 5;
/** Reasons are cut to the line (the events and the progress line have them whole), but keep a few words. */
const MIN_REASON = 20;

export function judgmentLines(d: StatusDocument, judgment: Judgment | null, c: Colors, width: number): string[] {
  if (judgment === null) {
    const analyses = Array.isArray(d.plan) && d.plan.some((step) => step.kind === 'analysis');
    return analyses ? [`${c.bold('Judgment')}  ${c.dim('none yet')}`] : [];
  }
  const at = ` at ${formatClock(judgment.at)}`;
  const title = `${c.bold('Judgment')}${at}`;
  const room = (used: string) => Math.max(MIN_REASON, width - 'Judgment'.length - at.length - used.length);
  if (judgment.kind === 'deferred') return [`${title}: ${c.yellow(truncate(`deferred: ${judgment.reason}`, room(': ')))}`];
  const { summary, metrics, groups } = judgment.result;
  const thresholds = `  pass ≥ ${summary.thresholds.pass}, ends ≤ ${summary.thresholds.marginal}`;
  const why = summary.reason ? c.dim(truncate(` (${summary.reason})`, room(`: score ${summary.score} ${summary.classification}${thresholds}`))) : '';
  const nameWidth = columnWidth(metrics.map((m) => m.metric));
  const labelWidth = columnWidth(metrics.map((m) => m.label));
  return [
    `${title}: score ${summary.score} ${classificationText(summary.classification, c)}${c.dim(thresholds)}${why}`,
    ...metrics.map((m) => {
      const scores = groups.filter((g) => m.groups.includes(g.group)).map((g) => `${g.group} ${g.noData ? 'no data' : g.score}`);
      const ratio = m.meanRatio === null ? '' : `  canary/baseline ${m.meanRatio.toFixed(2)}`;
      const flags = [m.critical ? 'critical' : '', m.muted ? 'muted' : ''].filter(Boolean).join(', ');
      return `  ${m.metric.padEnd(nameWidth)}  ${labelText(m.label, c)}${' '.repeat(labelWidth - m.label.length)}  ${scores.join(', ')}${ratio}${flags ? c.dim(`  (${flags})`) : ''}`;
    }),
  ];
}

function classificationText(classification: ScoreClassification, c: Colors): string {
  if (classification === 'Pass') return c.green(classification);
  return classification === 'Marginal' ? c.yellow(classification) : c.red(classification);
}

function labelText(label: MetricLabel, c: Colors): string {
  if (label === 'Pass') return c.green(label);
  if (label === 'Nodata') return c.yellow(label);
  return c.red(label);
}

export function eventLines(d: StatusDocument, events: readonly AuditEvent[], c: Colors, width: number): string[] {
  if (events.length === 0) return [];
  const shown = events.slice(-EVENTS_SHOWN);
  const verbWidth = columnWidth(shown.map((e) => verbOf(e)));
  return [
    c.bold('Events'),
    ...shown.map((e) => {
      const step = typeof e.details['stepIndex'] === 'number' ? ` step ${Math.min(e.details['stepIndex'] + 1, d.step.count)}/${d.step.count}` : '';
      const phase = typeof e.details['phase'] === 'string' ? ` ${e.details['phase']}` : '';
      const who = e.actor === 'crossfade-canary' ? '' : ` by ${e.actor}`;
      const what = `${verbOf(e).padEnd(verbWidth)}${step}${phase}${who}`;
      // The clock and its margins take 12 columns; the reason gets what is left of the line, and at least a few words.
      const reason = e.reason ? truncate(`: ${e.reason}`, Math.max(MIN_REASON, width - 12 - what.length)) : '';
      return `  ${c.dim(formatClock(e.at))}  ${what}${c.dim(reason)}`;
    }),
  ];
}

/** `deployment.shift` → `shift`. */
function verbOf(event: AuditEvent): string {
  return event.action.replace(/^deployment\./, '');
}
