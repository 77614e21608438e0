/** `GET /healthz` (docs/api.md "Health"): no token, no state read. */
import { FunctionName, type Route } from '../route.js';

export const healthRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/healthz',
    functionName: FunctionName.Health,
    public: true,
    handle: async ({ deps }) => ({ statusCode: 200, body: { status: 'ok', version: deps.version } }),
  },
];
