/**
 * TrafficRouter for `kind: 'envoy'` proxy groups: Envoy and proxyless gRPC clients pull their
 * configuration, so "apply" is publishing the service's part of the group's snapshot and "verify"
 * is reading what was published and what each listed node acknowledged.
 *
 * A use case, not an adapter: it talks to no socket and no SDK, only to our own ports (the part
 * store, the snapshot store's acknowledgements) through other use cases (publish-snapshots.ts via
 * the coalescing publisher, verify-envoy-group.ts). The dependency rule puts such code here; the
 * adapters under it are the DynamoDB stores and the discovery/ADS servers that serve the snapshots.
 *
 * applySplit(group, service, backend, split) publishes `service`'s part into `group` from the
 * registry, which the caller has written before (the registry is where traffic is decided and
 * fenced: usecases/canary/traffic.ts). Unlike HAProxy, `backend` and `split` are not what is put
 * in: they are validated like HAProxy's (domain/router-arguments.ts, ValidationError before
 * anything is published), and verifySplit compares the published result with them. When the
 * registry holds something else, the publish carries the registry's split and verifySplit says
 * 'pending' (the snapshot does not carry `split`) until the registry and the arguments agree:
 * never 'converged' on a split nobody asked for. Requests made in one turn of the event loop (one
 * per group of a step, program-proxies.ts) are one publish (coalescing-publisher.ts).
 *
 * - A publish that lost its race to other publishers (VersionConflictError after its own retries)
 *   is not a failure: verifySplit says 'pending', and applying again publishes again.
 * - ProxyCommandError (not retryable) when the group's publish was refused (two services making
 *   one cluster name), or the service is left out of the group's snapshot (isolated by a
 *   consistency rule of its own, or no version has an endpoint): the configuration must change first.
 * - DependencyUnavailableError when the store cannot be reached (retryable), from both verbs.
 *
 * verifySplit: 'pending' naming the group while its published snapshot does not carry exactly
 * `split` for `service` (nothing published yet, a lost race); then 'unknown' when the group lists
 * no node ids; 'propagating' naming each listed node that does not run the published snapshot yet
 * (it takes it at its next poll, or names the version it rejected: verify-envoy-group.ts);
 * 'converged' when every listed node runs it.
 */
import { InternalError, ProxyCommandError, VersionConflictError } from '../domain/errors.js';
import type { ProxyGroup, Split } from '../domain/mesh.js';
import { checkRouterArguments } from '../domain/router-arguments.js';
import type { RegistrySourcedRouter, VersionEndpoints, Verification } from '../ports/traffic-router.js';
import type { Publish } from './coalescing-publisher.js';
import type { PublishReport } from './publish-snapshots.js';
import { headRoutesCarry } from './published-route.js';
import { noNodeIds, verifyAcknowledgements } from './verify-envoy-group.js';
import type { EnvoyGroup, XdsDeps } from './xds-deps.js';

export type EnvoyRouterDeps = Pick<XdsDeps, 'parts' | 'snapshots' | 'clock' | 'logger'> & { publish: Publish };

export class EnvoyTrafficRouter implements RegistrySourcedRouter {
  readonly sourcedFromRegistry = true;

  constructor(private readonly deps: EnvoyRouterDeps) {}

  async applySplit(group: ProxyGroup, service: string, backend: readonly VersionEndpoints[], split: Split): Promise<void> {
    envoyGroup(group);
    checkRouterArguments(service, backend, split);
    let report: PublishReport;
    try {
      report = await this.deps.publish({ groups: [group.name], services: [service] });
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      this.deps.logger.info('snapshot publish lost the race; verifySplit says what was published', { service, group: group.name });
      return;
    }
    const refusal = refusalOf(report, group.name, service);
    if (refusal !== undefined) throw new ProxyCommandError(`proxy group ${group.name}`, `publish ${service}`, refusal);
  }

  async verifySplit(group: ProxyGroup, service: string, backend: readonly VersionEndpoints[], split: Split): Promise<Verification> {
    const envoy = envoyGroup(group);
    checkRouterArguments(service, backend, split);
    const head = await this.deps.parts.head(group.name);
    if (!head) return { state: 'pending', lagging: [{ proxy: group.name, reason: `nothing is published for proxy group ${group.name} yet` }] };
    if (!(await headRoutesCarry(this.deps.parts, head, service, split))) {
      return { state: 'pending', lagging: [{ proxy: group.name, reason: `the published snapshot does not carry ${service}'s split ${JSON.stringify(split)} yet` }] };
    }
    if (envoy.proxies.length === 0) return noNodeIds(group);
    const nodes = await verifyAcknowledgements(this.deps, envoy, head);
    return nodes.state === 'pending' ? { state: 'propagating', lagging: nodes.lagging } : nodes;
  }
}

function envoyGroup(group: ProxyGroup): EnvoyGroup {
  if (group.kind !== 'envoy') throw new InternalError(`proxy group ${group.name} is of kind ${group.kind}; the Envoy router only drives envoy groups`);
  return group;
}

/** Why the group's snapshot does not route the service after this publish, in words; undefined when it does. */
function refusalOf(report: PublishReport, group: string, service: string): string | undefined {
  const published = report.groups.find((g) => g.group === group);
  if (published?.outcome === 'refused') return `the snapshot of proxy group ${group} was refused: ${published.reason}`;
  const isolated = published?.isolated.find((i) => i.service === service);
  if (isolated) return `${service} is isolated from the snapshot of proxy group ${group} (${isolated.rule}): ${isolated.reason}`;
  if (report.withoutEndpoints.includes(service)) return `no version of ${service} has an endpoint, so no snapshot routes it`;
  return undefined;
}
