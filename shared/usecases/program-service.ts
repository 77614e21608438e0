/**
 * After a registration or deregistration: the proxies get what the registry now holds for the
 * service, at once (program-proxies.ts), and each group is asked what it serves. The registry is
 * already written when this runs, so a proxy that cannot be reached does not fail the request:
 * the answer names it, and reconciliation (POST /v1/reconcile, every 5 minutes) repairs it.
 *
 * Per group (but the sidecar groups of services that do not call this one, which route none of
 * it), from its router (router-of.ts): what applySplit threw, else what verifySplit says.
 * - `programmed`: the registry's split is in place: every HAProxy instance answered `show servers
 *   state` with it, or the group's published snapshot routes the service by it ('converged', or
 *   'propagating': its Envoys take it at their next poll; GET /v1/services shows what each acknowledged).
 * - `unverified`: the group lists no proxies (domain/mesh.ts unverifiedReason): an Envoy group's
 *   snapshot is published and routes the split, but no proxy is asked; an HAProxy group has no
 *   instance to program.
 * - `unreachable: …`: a proxy could not be reached.
 * - `not programmed: …`: anything else, said in words (a proxy refused a command, the service
 *   is isolated from the group's snapshot, the published snapshot does not route it yet).
 */
import { CrossfadeError, DependencyUnavailableError } from '../domain/errors.js';
import { unverifiedReason, type ProxyGroup, type Split } from '../domain/mesh.js';
import type { ServiceState } from '../ports/mesh-registry.js';
import { programGroups, type ProgramDeps } from './program-proxies.js';
import { routerOf } from './router-of.js';
import { groupsRouting } from './sidecar-scope.js';
import { serviceBackend } from './service-backend.js';

export type GroupProgramming = 'programmed' | 'unverified' | `unreachable: ${string}` | `not programmed: ${string}`;

/** Programs every proxy group with the service as registered; by group name, what each serves. Empty when nothing is registered. */
export async function programService(deps: ProgramDeps, service: string): Promise<Record<string, GroupProgramming>> {
  const programming = await programGroups(deps, service);
  const state = programming.state;
  if (!state) return {};
  const outcomes: Record<string, GroupProgramming> = {};
  // A sidecar group whose service does not call this one routes nothing of it: it has nothing to say.
  for (const group of await groupsRouting(deps, deps.proxyGroups, service)) {
    const split = state.splits.find((s) => s.proxyGroup === group.name)?.weights;
    outcomes[group.name] = !split ? `not programmed: ${service} has no split in proxy group ${group.name} (register a version again to give it one)` : await outcomeOf(deps, group, state, split, programming.failures.get(group.name));
  }
  const missed = Object.entries(outcomes).filter(([, outcome]) => outcome !== 'programmed' && outcome !== 'unverified');
  if (missed.length > 0) deps.logger.warn('proxy groups not programmed: reconciliation repairs them', { service, groups: Object.fromEntries(missed) });
  return outcomes;
}

async function outcomeOf(deps: ProgramDeps, group: ProxyGroup, state: ServiceState, split: Split, failure: unknown): Promise<GroupProgramming> {
  try {
    if (failure !== undefined) throw failure;
    const verification = await routerOf(deps, group).verifySplit(group, state.service, serviceBackend(state), split);
    if (verification.state === 'pending') return `not programmed: ${verification.lagging.map((l) => `${l.proxy}: ${l.reason}`).join('; ')}`;
    if (unverifiedReason(group) !== null) return 'unverified';
    if (verification.state === 'unknown') return `unreachable: ${verification.reason}`;
    return 'programmed';
  } catch (error) {
    if (!(error instanceof CrossfadeError)) throw error;
    return failed(error);
  }
}

function failed(error: CrossfadeError): GroupProgramming {
  return error instanceof DependencyUnavailableError ? `unreachable: ${error.message}` : `not programmed: ${error.name}: ${error.message}`;
}
