/** Bookkeeping shared by every fake store: write counts, and failures injected on demand. */
/** A queue of errors per method: the next call of `method` throws the first one queued. */
class Faults<M extends string> {
  private readonly queued = new Map<M, Error[]>();

  failNext(method: M, error: Error): void {
    this.queued.set(method, [...(this.queued.get(method) ?? []), error]);
  }

  /** Throws the error queued for `method`, if any. */
  check(method: M): void {
    const error = this.queued.get(method)?.shift();
    if (error) throw error;
  }
}

/** Write bookkeeping shared by every fake store. */
export abstract class FakeStore<M extends string> {
  /** Every call of a write method, whatever its outcome (a no-op, a refusal, an injected failure). */
  writeAttempts = 0;
  /** Write calls that changed what is stored. */
  writes = 0;
  private readonly faults = new Faults<M>();

  /** Makes the next call of `method` throw `error` before it touches anything. */
  failNext(method: M, error: Error): this {
    this.faults.failNext(method, error);
    return this;
  }

  protected read(method: M): void {
    this.faults.check(method);
  }

  protected attemptWrite(method: M): void {
    this.writeAttempts++;
    this.faults.check(method);
  }
}
