/** Reading deployments: one by id, or a page of a listing. Access checks stay with the caller. */
import type { Deployment } from '../domain/deployment.js';
import { NotFoundError } from '../domain/errors.js';
import type { DeploymentQuery } from '../ports/deployment-store.js';
import type { Page } from '../ports/page.js';
import type { UseCaseDeps } from './deps.js';

export async function getDeployment(deps: Pick<UseCaseDeps, 'deployments'>, id: string): Promise<Deployment> {
  const deployment = await deps.deployments.get(id);
  if (!deployment) throw new NotFoundError(`deployment ${id} does not exist`);
  return deployment;
}

export function listDeployments(deps: Pick<UseCaseDeps, 'deployments'>, query: DeploymentQuery): Promise<Page<Deployment>> {
  return deps.deployments.list(query);
}
