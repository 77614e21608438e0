/** An external rules service (domain/policy/external.ts, docs/policy.md "External rules service"). */
import type { ExternalRulesEndpoint, RulesAnswer, RulesRequest } from '../domain/policy/external.js';

export interface ExternalRulesService {
  /**
   * Asks whether `request` may proceed. Not idempotent in general (the service may count asks);
   * safe to repeat as far as crossfade is concerned, since it writes nothing. Resolves with the
   * validated answer; rejects with a CrossfadeError whose message says why there is none (no
   * answer within the timeout, unreachable, a non-2xx status, an answer that is not
   * `{allow, reasons}`, the secret could not be read) — the caller turns that into a fail-closed
   * or fail-open verdict.
   */
  ask(request: RulesRequest): Promise<RulesAnswer>;
}

/** A configured endpoint (its scope, name, fail-open setting) with the client that asks it. */
export interface ConfiguredRulesService {
  endpoint: ExternalRulesEndpoint;
  service: ExternalRulesService;
}
