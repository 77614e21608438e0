/** Deployments (docs/api.md "Deployments"): create, read, list; control and the policy dry run beside them. */
import { DeploymentStatus } from '../../domain/deployment.js';
import { IdempotencyKeyCanceledError, IdempotencyKeyReusedError, ValidationError } from '../../domain/errors.js';
import { SERVICE_NAME_PATTERN, SERVICE_NAME_RULE } from '../../domain/names.js';
import { createDeployment } from '../../usecases/create-deployment.js';
import { getDeployment, listDeployments } from '../../usecases/read-deployments.js';
import { requireAccess, requireAccessToEveryService, requireAdmin } from '../auth.js';
import { parseJsonBody } from '../body.js';
import { parsePageQuery } from '../page-query.js';
import { hashCanonical } from '../canonical-hash.js';
import { entityTag, ifNoneMatchMatches } from '../etag.js';
import { FunctionName, type Route } from '../route.js';
import { deploymentControlRoutes } from './deployment-control.js';
import { policyRoutes } from './policy.js';
import { createPolicyCommand, idempotencyKeyOf, inlineMetricsField, parseCreateDeploymentBody, requireOverrideAllowed } from '../schemas/create-deployment.js';
import { deploymentUrl, statusDocument } from '../status-document.js';

export const deploymentRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/deployments',
    functionName: FunctionName.Deployments,
    async handle({ request, deps, principal, baseUrl }) {
      const raw = parseJsonBody(request.body, request.headers['content-type']);
      const body = parseCreateDeploymentBody(raw);
      requireAccess(principal, 'deploy', body.service);
      // A template's queries are scoped to the service and version; inline ones can ask anything
      // of the metrics providers, with crossfade's credentials, and the raw answers reach /events.
      const inline = inlineMetricsField(raw);
      if (inline !== undefined) requireAdmin(principal, `give ${inline}: inline metrics run any query with crossfade's credentials; name a configured template instead`, 'inline-metrics');
      requireOverrideAllowed(principal, body);
      const idempotency = idempotencyKeyOf(principal.tokenId, request.headers['x-idempotency-key'], body.spinnaker);
      const { deployment } = await createDeployment(deps, {
        ...createPolicyCommand(body, principal.tokenId),
        deregisterBaseline: body.onPromotion?.deregisterBaseline ?? false,
        spinnaker: body.spinnaker ?? null,
        reason: body.reason ?? null,
        idempotencyKey: idempotency?.stored,
        requestHash: hashCanonical(raw),
      }).catch((error: unknown) => {
        // The caller knows its key, not the namespace it is stored in.
        if (error instanceof IdempotencyKeyReusedError && idempotency) throw new IdempotencyKeyReusedError(idempotency.caller);
        if (error instanceof IdempotencyKeyCanceledError && idempotency) throw new IdempotencyKeyCanceledError(idempotency.caller, error.canceledBy, error.canceledAt);
        throw error;
      });
      return { statusCode: 202, body: statusDocument(deployment, baseUrl), headers: { location: deploymentUrl(baseUrl, deployment.id) } };
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments',
    functionName: FunctionName.Deployments,
    async handle({ request, deps, principal, baseUrl }) {
      const query = parseListQuery(request.query);
      if (query.service !== undefined) requireAccess(principal, 'read', query.service);
      else requireAccessToEveryService(principal, 'read');
      const page = await listDeployments(deps, query);
      return { statusCode: 200, body: { items: page.items.map((d) => statusDocument(d, baseUrl)), nextCursor: page.nextCursor ?? null } };
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments/{id}',
    functionName: FunctionName.Deployments,
    async handle({ request, params, deps, principal, baseUrl }) {
      const deployment = await getDeployment(deps, params['id']!);
      requireAccess(principal, 'read', deployment.service);
      // Tagged by the bytes it sends (etag.ts): a poll of an unchanged deployment is one read and no body.
      const document = statusDocument(deployment, baseUrl);
      const etag = entityTag(JSON.stringify(document));
      if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) return { statusCode: 304, body: undefined, headers: { etag } };
      return { statusCode: 200, body: document, headers: { etag } };
    },
  },
  ...deploymentControlRoutes,
  ...policyRoutes,
];

const STATUSES = Object.values(DeploymentStatus) as string[];

function parseListQuery(query: Record<string, string>) {
  const page = parsePageQuery(query, ['service', 'status']);
  const { service, status } = query;
  if (service !== undefined && !SERVICE_NAME_PATTERN.test(service)) throw new ValidationError(`service must be ${SERVICE_NAME_RULE}`, 'service', 'service-name');
  if (status !== undefined && !STATUSES.includes(status)) throw new ValidationError(`status must be one of ${STATUSES.join(', ')}`, 'status', 'enum');
  return { service, status: status as DeploymentStatus | undefined, ...page };
}
