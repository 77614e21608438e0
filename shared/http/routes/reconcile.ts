/**
 * `POST /v1/reconcile` (docs/api.md): one service is reconciled in the request and its report
 * answered (200); every service is a reconcile run in shards (usecases/reconcile-run.ts), answered
 * 202 with the run and its status URL, `GET /v1/reconcile/runs/{runId}`.
 */
import * as z from 'zod/mini';
import { NotFoundError } from '../../domain/errors.js';
import { SERVICE_NAME_PATTERN, SERVICE_NAME_RULE } from '../../domain/names.js';
import type { ReconcileRun } from '../../domain/reconcile-run.js';
import { reconcileMesh } from '../../usecases/reconcile-mesh.js';
import { startReconcileRun } from '../../usecases/reconcile-run.js';
import { requireAccess, requireAccessToEveryService } from '../auth.js';
import { parseJsonBody } from '../body.js';
import { FunctionName, type Route } from '../route.js';
import { reasonField } from '../schemas/reason.js';
import { parseWith } from '../schemas/zod-errors.js';

const body = z.strictObject({ service: z.optional(z.string().check(z.regex(SERVICE_NAME_PATTERN, `must be ${SERVICE_NAME_RULE}`))), reason: reasonField });

function runDocument(run: ReconcileRun, baseUrl: string): ReconcileRun & { statusUrl: string } {
  return { ...run, statusUrl: `${baseUrl}/v1/reconcile/runs/${run.id}` };
}

export const reconcileRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/reconcile',
    functionName: FunctionName.Reconcile,
    async handle({ request, deps, principal, baseUrl }) {
      const { service, reason } = parseWith(body, parseJsonBody(request.body, request.headers['content-type']));
      // One service: whoever may deploy it. Everything: whoever may deploy everything.
      if (service !== undefined) requireAccess(principal, 'deploy', service);
      else requireAccessToEveryService(principal, 'deploy');
      const requestedBy = { actor: principal.tokenId, reason: reason ?? null };
      if (service !== undefined) return { statusCode: 200, body: await reconcileMesh(deps, { service, requestedBy }) };
      // One run at a time: a request while one is under way answers that run (its requester stays the first one).
      const { run, started } = await startReconcileRun(deps, requestedBy);
      if (started) await deps.dispatchReconcile?.(run.id);
      const document = runDocument(run, baseUrl);
      return { statusCode: 202, body: { ...document, started }, headers: { location: document.statusUrl } };
    },
  },
  {
    method: 'GET',
    path: '/v1/reconcile/runs/{runId}',
    functionName: FunctionName.Reconcile,
    async handle({ params, deps, principal, baseUrl }) {
      requireAccessToEveryService(principal, 'read');
      const run = await deps.reconcileRuns.get(params['runId']!);
      if (!run) throw new NotFoundError(`reconcile run ${params['runId']} does not exist`);
      return { statusCode: 200, body: runDocument(run, baseUrl) };
    },
  },
];
