/**
 * A deployment's lifecycle (docs/api.md): cancel (by id, or by the creation's idempotency key),
 * promote, pause, resume, rollback, and its audit timeline. Each answers 200 with the status
 * document as it is after the request.
 */
import * as z from 'zod/mini';
import { cancelByKey } from '../../usecases/cancel-by-key.js';
import { controlDeployment, type ControlRequest } from '../../usecases/control-deployment.js';
import { requirePromotionAllowed } from '../../usecases/policy-check.js';
import { getDeployment } from '../../usecases/read-deployments.js';
import { requireAccess } from '../auth.js';
import { auditTimeline } from '../audit-timeline.js';
import { parseJsonBody } from '../body.js';
import { FunctionName, type Route, type RouteContext } from '../route.js';
import { idempotencyKeyOf } from '../schemas/create-deployment.js';
import { parseReasonOnly, reasonField } from '../schemas/reason.js';
import { parseWith } from '../schemas/zod-errors.js';
import { statusDocument } from '../status-document.js';

const promoteBody = z.strictObject({ reason: reasonField, full: z._default(z.boolean(), false) });

function controlRoute(verb: ControlRequest['kind']): Route {
  return {
    method: 'POST',
    path: `/v1/deployments/{id}/${verb}`,
    functionName: FunctionName.Deployments,
    async handle({ request, params, deps, principal, baseUrl }: RouteContext) {
      const raw = parseJsonBody(request.body, request.headers['content-type']);
      const body = verb === 'promote' ? parseWith(promoteBody, raw) : { reason: parseReasonOnly(raw), full: false };
      const controlRequest: ControlRequest = verb === 'promote' ? { kind: 'promote', full: body.full } : { kind: verb };
      const deployment = await controlDeployment(deps, {
        deploymentId: params['id']!,
        request: controlRequest,
        actor: principal.tokenId,
        reason: body.reason ?? null,
        authorize: (service) => requireAccess(principal, 'deploy', service),
        admitPromotion: (current) => requirePromotionAllowed(deps, current, principal.tokenId),
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
    const reason = parseReasonOnly(parseJsonBody(request.body, request.headers['content-type']));
    const key = idempotencyKeyOf(principal.tokenId, params['idempotencyKey'], undefined)!;
    const outcome = await cancelByKey(deps, { storedKey: key.stored, actor: principal.tokenId, reason, authorize: (service) => requireAccess(principal, 'deploy', service) });
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
      return { statusCode: 200, body: await auditTimeline(deps.audit, `deployment/${deployment.id}`, request.query) };
    },
  },
];
