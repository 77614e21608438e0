/** `POST /v1/reconcile` (docs/api.md): compare desired and actual mesh state, repair drift, report. */
import * as z from 'zod/mini';
import { SERVICE_NAME_PATTERN, SERVICE_NAME_RULE } from '../../domain/names.js';
import { reconcileMesh } from '../../usecases/reconcile-mesh.js';
import { requireAccess, requireAccessToEveryService } from '../auth.js';
import { parseJsonBody } from '../body.js';
import { FunctionName, type Route } from '../route.js';
import { reasonField } from '../schemas/reason.js';
import { parseWith } from '../schemas/zod-errors.js';

const body = z.strictObject({ service: z.optional(z.string().check(z.regex(SERVICE_NAME_PATTERN, `must be ${SERVICE_NAME_RULE}`))), reason: reasonField });

export const reconcileRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/reconcile',
    functionName: FunctionName.Reconcile,
    async handle({ request, deps, principal }) {
      const { service, reason } = parseWith(body, parseJsonBody(request.body, request.headers['content-type']));
      // One service: whoever may deploy it. Everything: whoever may deploy everything.
      if (service !== undefined) requireAccess(principal, 'deploy', service);
      else requireAccessToEveryService(principal, 'deploy');
      const requestedBy = { actor: principal.tokenId, reason: reason ?? null };
      return { statusCode: 200, body: await reconcileMesh(deps, service === undefined ? { requestedBy } : { service, requestedBy }) };
    },
  },
];
