/**
 * Puts a service's split into the proxies of one proxy group, and checks that they serve it.
 * One adapter per proxy kind (HAProxy Runtime API, Envoy snapshots); a use case picks the adapter
 * by `group.kind`, and an adapter given a group of another kind throws InternalError (a wiring bug).
 *
 * Two verbs, as Flagger's router and Argo Rollouts' weight verification have them: a write that
 * may return before the proxies have taken it, and a read that says whether they have. A traffic
 * step is done when verifySplit says 'converged', never when applySplit returned.
 */
import type { Endpoint, ProxyGroup, Split } from '../domain/mesh.js';

/** The endpoints of one registered version, as the proxies of the group should reach them. */
export interface VersionEndpoints {
  version: string;
  endpoints: readonly Endpoint[];
}

/** A proxy that does not (yet) serve the split, and what it does instead. */
export interface LaggingProxy {
  /**
   * The proxy's name in the group (an HAProxy instance's name, an Envoy node id), or the group's
   * own name when what lags is the group's configuration itself (an Envoy group's published snapshot).
   */
  proxy: string;
  /** What differs, for people: "server v2_10.0.0.7_8080 has weight 50, expected 5". */
  reason: string;
}

/**
 * Argo Rollouts' tri-state, with its "not yet" split by what repairs it:
 * - 'pending': every proxy answered and some serve something else; what applySplit puts in place
 *   is not (or no longer) there, and calling applySplit again repairs it (an HAProxy weight changed
 *   by hand, an instance restarted; an Envoy group's published snapshot that lacks the split).
 * - 'propagating': what applySplit puts in place is there, and the named proxies have not taken it
 *   up yet; they take it by themselves (an Envoy node's next poll), applying again changes nothing.
 *   Only routers whose proxies pull their configuration answer it.
 * - 'unknown': at least one proxy could not be asked, or the group lists none to ask, so nothing
 *   can be claimed either way.
 */
export type Verification =
  | { state: 'converged' }
  | { state: 'pending'; lagging: LaggingProxy[] }
  | { state: 'propagating'; lagging: LaggingProxy[] }
  | { state: 'unknown'; reason: string };

export interface TrafficRouter {
  /**
   * Makes every proxy of `group` serve `split` for `service` over exactly the endpoints in
   * `backend`: endpoints the proxies lack are added and start taking traffic only once their
   * weight is set; proxied endpoints no longer in `backend` are drained, and removed by a later
   * call once drained. A version in `backend` that the split does not name gets no traffic.
   *
   * Idempotent: repeated calls converge on one state and then change nothing (the only step that
   * needs a repeat is removal, which drains first). Calling it again after a failure, or after a
   * proxy drifted (edited by hand, restarted), repairs what differs. Every proxy of the group is
   * attempted even when one fails.
   *
   * Throws, before any proxy is contacted: ValidationError when `split` is not a valid split, a
   * name would not be safe inside proxy config, an endpoint is invalid or repeated, or a version
   * with a share above 0% has no endpoints; ConfigError when a proxy of the group must not be
   * contacted (an admin address that is not private). Then DependencyUnavailableError (retryable)
   * naming a proxy that could not be reached, or ProxyCommandError (not retryable) naming a proxy
   * that refused a change; the refusal wins when both happen. Resolves with nothing: call verifySplit.
   */
  applySplit(group: ProxyGroup, service: string, backend: readonly VersionEndpoints[], split: Split): Promise<void>;

  /**
   * Asks every proxy of `group` whether it serves `split` for `service` over `backend`, as
   * applySplit would have left it. Never says 'converged' unless every proxy answered and matches;
   * an unreachable proxy, or a group that lists no proxy, makes the answer 'unknown' (it does not
   * throw). Safe to call any time, any number of times: it changes nothing.
   *
   * Throws ValidationError and ConfigError as applySplit does, ProxyCommandError when a proxy
   * refuses to be read.
   */
  verifySplit(group: ProxyGroup, service: string, backend: readonly VersionEndpoints[], split: Split): Promise<Verification>;
}

/**
 * A router whose applySplit puts into the proxies what the registry holds when it runs, not its
 * arguments, through a conditional write (the Envoy router: a publish reads the registry after the
 * HEAD it replaces, and loses to a newer one). It never puts an older split over a newer one, so a
 * caller need not read the registry again after applying to catch a split that changed meanwhile.
 */
export interface RegistrySourcedRouter extends TrafficRouter {
  readonly sourcedFromRegistry: true;
}
