/**
 * The slots of concurrency caps (docs/policy.md "How a cap is enforced"): one set of holders per
 * cap scope (a rule, and for a per-cloud or per-proxy-group rule one cloud or group), claimed
 * atomically, so parallel creates never put more canaries in a scope than its cap allows. A holder
 * is a deployment id; its slot is claimed before the deployment is written and released when its
 * run is released (or its creation refused). A slot whose holder never became a deployment, or
 * whose release was lost, is removed by the sweeper (usecases/prune-slots.ts).
 */
export interface SlotHolder {
  holder: string;
  /** When it claimed its slot (ISO 8601); a re-claim moves it. */
  claimedAt: string;
}

export type SlotClaim = { claimed: true } | { claimed: false; holders: SlotHolder[] };

export interface CapScopeSlots {
  scopeKey: string;
  holders: SlotHolder[];
}

export interface CanarySlots {
  /**
   * Takes a slot in `scopeKey` for `holder` if fewer than `max` are held, atomically. Idempotent:
   * a holder that holds a slot there gets it again (its claimedAt moved to `at`) whatever the count,
   * so a replayed creation is never refused by its own slot. Refused: the holders at that moment.
   * Throws DependencyUnavailableError.
   */
  claim(scopeKey: string, holder: string, max: number, at: string): Promise<SlotClaim>;
  /**
   * Idempotent: releasing a slot not held is a no-op. With `ifClaimedAt`, only a slot claimed at that
   * time is released: the sweeper frees the slot it judged an orphan's, not one a retried creation
   * claimed since. Throws DependencyUnavailableError.
   */
  release(scopeKey: string, holder: string, ifClaimedAt?: string): Promise<void>;
  /** The holders of one scope, oldest first; none when it was never claimed. */
  holders(scopeKey: string): Promise<SlotHolder[]>;
  /** Every scope ever claimed, with its holders (a bounded set: a few per cap rule). */
  scopes(): Promise<CapScopeSlots[]>;
}
