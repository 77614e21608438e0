/** Reading deployments: one by id, or a page of a listing. Access checks stay with the caller. */
import { isFinished, statusOf, type Deployment } from '../domain/deployment.js';
import { NotFoundError } from '../domain/errors.js';
import type { DeploymentQuery } from '../ports/deployment-store.js';
import type { Page } from '../ports/page.js';
import type { UseCaseDeps } from './deps.js';
import { pageAfter } from './page-cursor.js';

export async function getDeployment(deps: Pick<UseCaseDeps, 'deployments'>, id: string): Promise<Deployment> {
  const deployment = await deps.deployments.get(id);
  if (!deployment) throw new NotFoundError(`deployment ${id} does not exist`);
  return deployment;
}

/**
 * A listing of NOT_STARTED or RUNNING deployments reads the active-run marks (one small partition)
 * and those deployments only, whatever the history holds; the store's index would filter every
 * deployment ever made, newest first, to find the few that have not ended.
 */
export async function listDeployments(deps: Pick<UseCaseDeps, 'deployments' | 'activeRuns'>, query: DeploymentQuery): Promise<Page<Deployment>> {
  if (query.status !== 'RUNNING' && query.status !== 'NOT_STARTED') return deps.deployments.list(query);
  const matching = (await unfinishedDeployments(deps)).filter((d) => statusOf(d.phase) === query.status && (query.service === undefined || d.service === query.service));
  const fingerprint = `unfinished:${query.service ?? '*'}:${query.status}`;
  // Newest first, as the store lists them: by creation time, then id (both in the sort key).
  const page = pageAfter(matching, sortKey, 'descending', fingerprint, query.limit, query.cursor);
  return page.nextCursor === undefined ? { items: page.items } : page;
}

/**
 * The deployments whose run has not ended, newest first: every one is marked (ports/active-runs.ts),
 * so the marks name them all; a mark of a finished or missing deployment is left out.
 */
export async function unfinishedDeployments(deps: Pick<UseCaseDeps, 'deployments' | 'activeRuns'>): Promise<Deployment[]> {
  const marks = await deps.activeRuns.list();
  const found = await Promise.all(marks.map((mark) => deps.deployments.get(mark.deploymentId)));
  return found
    .filter((d): d is Deployment => d !== undefined && !isFinished(d.phase))
    .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : -1));
}

/** How the store orders a listing: creation time, then id. */
function sortKey(d: Deployment): string {
  return `${d.createdAt}#${d.id}`;
}
