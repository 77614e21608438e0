/**
 * The watch's recorded reads (fixtures/, made by test/support/record-watch-fixtures.ts from real
 * runs): a status document, the events so far and the service view, as the frame gets them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgmentOf, type ServiceState, type WatchView } from '../../../../cli/watch/view.js';
import type { StatusDocument } from '../../../../shared/http/status-document.js';
import type { AuditEvent } from '../../../../shared/ports/audit-log.js';

export type RecordedName = 'timed-pause' | 'manual-gate' | 'judged' | 'succeeded' | 'rolled-back';

export interface Recorded {
  /** When it was read. */
  at: Date;
  view: WatchView;
}

export function recorded(name: RecordedName): Recorded {
  const file = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8')) as { at: string; deployment: StatusDocument; events: AuditEvent[]; service: ServiceState };
  const judgments = file.events.map(judgmentOf).filter((j) => j !== null);
  return { at: new Date(file.at), view: { deployment: file.deployment, events: file.events, judgment: judgments.at(-1) ?? null, service: file.service, trouble: {} } };
}

/** The lines of one titled section of a frame (up to the blank line that ends it). */
export function section(frame: string, title: string): string[] {
  const lines = frame.split('\n');
  const start = lines.findIndex((line) => line.startsWith(title));
  if (start < 0) throw new Error(`no section ${title} in:\n${frame}`);
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end);
}
