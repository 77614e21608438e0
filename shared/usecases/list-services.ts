/**
 * The services the mesh knows, a page at a time (docs/api.md `GET /v1/services`): each with its
 * versions, the split per proxy group, and the deployment running on it (or null).
 *
 * The running deployments come from the active-run marks (ports/active-runs.ts: one small
 * partition, at most one unfinished run per service), not from each service's deployment history.
 * Registered service names are few and read whole; `visible` filters them before paging, so a
 * page is full of services the caller may read.
 */
import { statusOf, type DeploymentStatus, type Phase } from '../domain/deployment.js';
import type { Split } from '../domain/mesh.js';
import type { Page, PageRequest } from '../ports/page.js';
import { pageAfter } from './page-cursor.js';
import { unfinishedDeployments } from './read-deployments.js';
import type { UseCaseDeps } from './deps.js';

export interface ServiceSummary {
  service: string;
  versions: { version: string; registeredAt: string; registeredBy: string }[];
  /** Per proxy group, the split it should serve. */
  weights: Record<string, Split>;
  /** The deployment whose run has not ended (NOT_STARTED or RUNNING), or null. */
  deployment: { id: string; status: DeploymentStatus; phase: Phase; canary: string } | null;
}

export async function listServices(deps: Pick<UseCaseDeps, 'registry' | 'activeRuns' | 'deployments'>, request: PageRequest & { visible(service: string): boolean }): Promise<Page<ServiceSummary>> {
  const names = (await deps.registry.listServices()).filter((name) => request.visible(name));
  const page = pageAfter(names, (name) => name, 'ascending', 'services', request.limit, request.cursor);
  const [states, running] = await Promise.all([Promise.all(page.items.map((name) => deps.registry.getService(name))), unfinishedDeployments(deps)]);
  const items = page.items.map((service, index): ServiceSummary => {
    const state = states[index];
    const deployment = running.find((d) => d.service === service);
    return {
      service,
      versions: (state?.versions ?? []).map(({ version, registeredAt, registeredBy }) => ({ version, registeredAt, registeredBy })).sort((a, b) => a.registeredAt.localeCompare(b.registeredAt)),
      weights: Object.fromEntries((state?.splits ?? []).map((s) => [s.proxyGroup, s.weights])),
      deployment: deployment ? { id: deployment.id, status: statusOf(deployment.phase), phase: deployment.phase, canary: deployment.canary.version } : null,
    };
  });
  return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
}
