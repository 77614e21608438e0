/**
 * A deployment's lifecycle (docs/api.md): cancel (by id, or by the creation's idempotency key),
 * promote, pause, resume, rollback, and its audit timeline. Each answers 200 with the status
 * document as it is after the request.
 */
import * as z from 'zod/mini';
import { ValidationError } from '../../domain/errors.js';
import { cancelByKey } from '../../usecases/cancel-by-key.js';
import { controlDeployment, type ControlRequest } from '../../usecases/control-deployment.js';
import { getDeployment } from '../../usecases/read-deployments.js';
import { requireAccess } from '../auth.js';
import { parseJsonBody } from '../body.js';
import { FunctionName, type Route, type RouteContext } from '../route.js';
import { idempotencyKeyOf } from '../schemas/create-deployment.js';
import { parseWith } from '../schemas/zod-errors.js';
import { statusDocument } from '../status-document.js';

const reasonOnly = z.strictObject({ reason: z.optional(z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(500, 'must be at most 500 characters'))) });
const promoteBody = z.strictObject({ ...reasonOnly.shape, full: z._default(z.boolean(), false) });

function controlRoute(verb: ControlRequest['kind']): Route {
  return {
    method: 'POST',
    path: `/v1/deployments/{id}/${verb}`,
    functionName: FunctionName.Deployments,
    async handle({ request, params, deps, principal, baseUrl }: RouteContext) {
      const raw = parseJsonBody(request.body, request.headers['content-type']);
      const body = verb === 'promote' ? parseWith(promoteBody, raw) : { ...parseWith(reasonOnly, raw), full: false };
      const controlRequest: ControlRequest = verb === 'promote' ? { kind: 'promote', full: body.full } : { kind: verb };
      const deployment = await controlDeployment(deps, {
        deploymentId: params['id']!,
        request: controlRequest,
        actor: principal.tokenId,
        reason: body.reason ?? null,
        authorize: (service) => requireAccess(principal, 'deploy', service),
      });
      return { statusCode: 200, body: statusDocument(deployment, baseUrl) };
    },
  };
}

/**
 * Spinnaker's cancelEndpoint: the stage knows only the idempotency key its create carries
 * (usecases/cancel-by-key.ts). 200 whether the key names a deployment, nothing yet, or a cancel already.
 */
const cancelByKeyRoute: Route = {
  method: 'POST',
  path: '/v1/deployments/by-key/{idempotencyKey}/cancel',
  functionName: FunctionName.Deployments,
  async handle({ request, params, deps, principal, baseUrl }) {
    const { reason } = parseWith(reasonOnly, parseJsonBody(request.body, request.headers['content-type']));
    const key = idempotencyKeyOf(principal.tokenId, params['idempotencyKey'], undefined)!;
    const outcome = await cancelByKey(deps, { storedKey: key.stored, actor: principal.tokenId, reason: reason ?? null, authorize: (service) => requireAccess(principal, 'deploy', service) });
    const body =
      outcome.kind === 'deployment'
        ? { idempotencyKey: key.caller, outcome: 'deployment-canceled', deployment: statusDocument(outcome.deployment, baseUrl) }
        : { idempotencyKey: key.caller, outcome: 'canceled-before-create', canceledAt: outcome.tombstone.canceledAt, canceledBy: outcome.tombstone.canceledBy, deployment: null };
    return { statusCode: 200, body };
  },
};

export const deploymentControlRoutes: readonly Route[] = [
  controlRoute('cancel'),
  cancelByKeyRoute,
  controlRoute('promote'),
  controlRoute('pause'),
  controlRoute('resume'),
  controlRoute('rollback'),
  {
    method: 'GET',
    path: '/v1/deployments/{id}/events',
    functionName: FunctionName.Deployments,
    async handle({ request, params, deps, principal }) {
      const deployment = await getDeployment(deps, params['id']!);
      requireAccess(principal, 'read', deployment.service);
      const limit = request.query['limit'] === undefined ? 100 : Number(request.query['limit']);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ValidationError('limit must be a whole number from 1 to 100', 'limit', 'range');
      const cursor = request.query['cursor'];
      const page = await deps.audit.list(`deployment/${deployment.id}`, cursor === undefined ? { limit } : { limit, cursor });
      return { statusCode: 200, body: { items: page.items, nextCursor: page.nextCursor ?? null } };
    },
  },
];
