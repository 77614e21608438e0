/** `GET /healthz` (docs/api.md "Health"): no token, no state read. */
import { FunctionName, type EdgeDeps, type Route } from '../route.js';

/** Typed on EdgeDeps alone: the health function builds nothing more (shared/runtime/health.ts). */
export const healthRoutes: readonly Route<EdgeDeps>[] = [
  {
    method: 'GET',
    path: '/healthz',
    functionName: FunctionName.Health,
    public: true,
    handle: async ({ deps }) => ({ statusCode: 200, body: { status: 'ok', version: deps.version } }),
  },
];
