/** An in-memory ReconcileRuns honouring its contract (shared/ports/reconcile-runs.ts), for unit tests only. */
import { VersionConflictError } from '../../shared/domain/errors.js';
import type { ReconcileRun } from '../../shared/domain/reconcile-run.js';
import type { ReconcileRuns } from '../../shared/ports/reconcile-runs.js';
import { FakeStore } from './fake-store.js';

export class InMemoryReconcileRuns extends FakeStore<keyof ReconcileRuns> implements ReconcileRuns {
  private readonly runs = new Map<string, ReconcileRun>();
  private activeId: string | undefined;

  async get(id: string): Promise<ReconcileRun | undefined> {
    this.read('get');
    return structuredClone(this.runs.get(id));
  }

  async create(run: ReconcileRun): Promise<'created' | 'existed'> {
    this.attemptWrite('create');
    if (this.runs.has(run.id)) return 'existed';
    this.runs.set(run.id, structuredClone(run));
    this.writes++;
    return 'created';
  }

  async update(run: ReconcileRun): Promise<void> {
    this.attemptWrite('update');
    if (this.runs.get(run.id)?.revision !== run.revision - 1) throw new VersionConflictError(`reconcile run ${run.id}`, run.revision - 1);
    this.runs.set(run.id, structuredClone(run));
    this.writes++;
  }

  async claimActive(id: string): Promise<string> {
    this.attemptWrite('claimActive');
    if (this.activeId === undefined) {
      this.activeId = id;
      this.writes++;
    }
    return this.activeId;
  }

  async active(): Promise<string | undefined> {
    this.read('active');
    return this.activeId;
  }

  async releaseActive(id: string): Promise<void> {
    this.attemptWrite('releaseActive');
    if (this.activeId !== id) return;
    this.activeId = undefined;
    this.writes++;
  }
}
