/**
 * bench/results/<suite>.json merged by scenario: a run of one scenario replaces its own records
 * and keeps every other scenario's; a failed scenario goes to <suite>.failed.json and leaves the
 * results file as it was; a tiny run writes files of its own.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeSuiteReport, type ScenarioRun, type SuiteReport } from '../../../bench/lib/results-file.js';

const ORDER = ['snapshots', 'rest-poll', 'reconcile'];

function scenarioRun(status: ScenarioRun['status'], startedAt: string, failures?: string[]): ScenarioRun {
  return { status, size: 'full', node: 'v22.0.0', startedAt, finishedAt: startedAt, seconds: 1, loadAverageAtStart: [1, 1, 1], ...(failures ? { failures } : {}) };
}

function report(startedAt: string, runs: Record<string, ScenarioRun>, results: Record<string, unknown>[]): SuiteReport {
  return { suite: 'dataplane', node: 'v22.0.0', cpus: 2, machine: 'test', loadAverageAtStart: [1, 1, 1], startedAt, finishedAt: startedAt, scenarios: Object.keys(runs), runs, aims: { a: 'b' }, results };
}

const read = (path: string): SuiteReport => JSON.parse(readFileSync(path, 'utf8')) as SuiteReport;

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeSuiteReport', () => {
  it('replaces only the scenarios that ran, keeping the others and the suite order', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    writeSuiteReport(dir, 'full', report('t1', { snapshots: scenarioRun('ok', 't1'), reconcile: scenarioRun('ok', 't1') }, [{ scenario: 'snapshots', ms: 1 }, { scenario: 'reconcile', ms: 10 }]), ORDER);

    const written = writeSuiteReport(dir, 'full', report('t2', { reconcile: scenarioRun('ok', 't2') }, [{ scenario: 'reconcile', ms: 20 }, { scenario: 'reconcile', ms: 21 }]), ORDER);

    expect(written).toEqual([join(dir, 'dataplane.json')]);
    const merged = read(join(dir, 'dataplane.json'));
    expect(merged.scenarios).toEqual(['snapshots', 'reconcile']);
    expect(merged.results).toEqual([{ scenario: 'snapshots', ms: 1 }, { scenario: 'reconcile', ms: 20 }, { scenario: 'reconcile', ms: 21 }]);
    expect(merged.runs['snapshots']?.startedAt).toBe('t1');
    expect(merged.runs['reconcile']?.startedAt).toBe('t2');
  });

  it('writes a failed scenario to <suite>.failed.json and leaves its figures in the results file as they were', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    writeSuiteReport(dir, 'full', report('t1', { 'rest-poll': scenarioRun('ok', 't1') }, [{ scenario: 'rest-poll', ms: 2 }]), ORDER);

    const written = writeSuiteReport(
      dir,
      'full',
      report('t2', { 'rest-poll': scenarioRun('failed', 't2', ['current: 3× 500']), reconcile: scenarioRun('ok', 't2') }, [{ scenario: 'rest-poll', ms: 999 }, { scenario: 'reconcile', ms: 5 }]),
      ORDER,
    );

    expect(written).toEqual([join(dir, 'dataplane.json'), join(dir, 'dataplane.failed.json')]);
    const kept = read(join(dir, 'dataplane.json'));
    expect(kept.results).toEqual([{ scenario: 'rest-poll', ms: 2 }, { scenario: 'reconcile', ms: 5 }]);
    expect(kept.runs['rest-poll']?.status).toBe('ok');
    const failed = read(join(dir, 'dataplane.failed.json'));
    expect(failed.scenarios).toEqual(['rest-poll']);
    expect(failed.results).toEqual([{ scenario: 'rest-poll', ms: 999 }]);
    expect(failed.runs['rest-poll']?.failures).toEqual(['current: 3× 500']);
  });

  it('writes no results file when every scenario failed', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    const written = writeSuiteReport(dir, 'full', report('t1', { snapshots: scenarioRun('failed', 't1', ['threw: boom']) }, [{ scenario: 'snapshots', error: 'boom' }]), ORDER);
    expect(written).toEqual([join(dir, 'dataplane.failed.json')]);
    expect(existsSync(join(dir, 'dataplane.json'))).toBe(false);
  });

  it('gives a file written before scenarios had run details of their own its top-level details', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    const old = { suite: 'dataplane', node: 'v22.1.0', startedAt: 'old', finishedAt: 'old-end', loadAverageAtStart: [3, 3, 3], scenarios: ['snapshots'], results: [{ scenario: 'snapshots', ms: 7 }] };
    writeFileSync(join(dir, 'dataplane.json'), JSON.stringify(old));

    writeSuiteReport(dir, 'full', report('t2', { reconcile: scenarioRun('ok', 't2') }, [{ scenario: 'reconcile', ms: 20 }]), ORDER);

    const merged = read(join(dir, 'dataplane.json'));
    expect(merged.results).toEqual([{ scenario: 'snapshots', ms: 7 }, { scenario: 'reconcile', ms: 20 }]);
    expect(merged.runs['snapshots']).toMatchObject({ status: 'ok', node: 'v22.1.0', startedAt: 'old', finishedAt: 'old-end' });
  });

  it('keeps a tiny run apart from the measured figures', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    const written = writeSuiteReport(dir, 'tiny', report('t1', { snapshots: scenarioRun('ok', 't1') }, [{ scenario: 'snapshots', ms: 1 }]), ORDER);
    expect(written).toEqual([join(dir, 'dataplane.tiny.json')]);
    expect(existsSync(join(dir, 'dataplane.json'))).toBe(false);
  });

  it('refuses to overwrite a results file that is not JSON', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    writeFileSync(join(dir, 'dataplane.json'), '{ half a file');
    expect(() => writeSuiteReport(dir, 'full', report('t1', { snapshots: scenarioRun('ok', 't1') }, []), ORDER)).toThrow(/dataplane\.json is not JSON/);
    expect(readFileSync(join(dir, 'dataplane.json'), 'utf8')).toBe('{ half a file');
  });
});
