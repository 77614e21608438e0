/**
 * The functions of serverless.yml as the tests hold them: each one's HTTP routes and exactly the
 * DynamoDB actions its role grants. test/integration/serverless-package.test.ts checks the packaged
 * template against it; test/integration/lambda-dynamodb-actions.test.ts checks that what the
 * functions really call stays within it.
 */
/** Every function in serverless.yml: its routes and exactly the DynamoDB actions it may call. */
export const FUNCTIONS = {
  health: { routes: ['GET /healthz'], dynamodbActions: [], timeoutSeconds: 10 },
  deployments: {
    routes: [
      'POST /v1/deployments',
      'GET /v1/deployments',
      'GET /v1/deployments/{id}',
      'POST /v1/deployments/{id}/cancel',
      'POST /v1/deployments/by-key/{idempotencyKey}/cancel',
      'POST /v1/deployments/{id}/promote',
      'POST /v1/deployments/{id}/pause',
      'POST /v1/deployments/{id}/resume',
      'POST /v1/deployments/{id}/rollback',
      'GET /v1/deployments/{id}/events',
      'POST /v1/policy/evaluate',
      'GET /v1/policy/evaluate',
    ],
    dynamodbActions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    timeoutSeconds: 10,
  },
  canary: {
    routes: [],
    // DeleteItem: a run that is over removes its active-run mark.
    dynamodbActions: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    timeoutSeconds: 100,
  },
  services: {
    routes: [
      'PUT /v1/services/{service}/versions/{version}',
      'DELETE /v1/services/{service}/versions/{version}',
      'PUT /v1/services/{service}/dependencies',
      'GET /v1/services/{service}/dependencies',
      'GET /v1/services',
      'GET /v1/services/{service}',
      'GET /v1/services/{service}/events',
    ],
    // BatchGetItem and UpdateItem: a registration or a declaration publishes the Envoy groups' parts (read in batches, superseded ones marked).
    dynamodbActions: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    // Discovery may wait on a slow cluster API (three attempts), still inside API Gateway's 30 s.
    timeoutSeconds: 20,
  },
  discovery: {
    routes: ['POST /v3/{proxy+}'],
    dynamodbActions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    timeoutSeconds: 10,
    tableOnly: true,
  },
  reconcile: {
    routes: ['POST /v1/reconcile', 'GET /v1/reconcile/runs/{runId}'],
    // The scheduled sweep of unfinished runs records restarts and removes the marks of runs that are over;
    // BatchGetItem and UpdateItem: each shard publishes its services' parts of the Envoy groups' snapshots.
    dynamodbActions: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    // The scheduled run reconciles every service.
    timeoutSeconds: 300,
  },
  notify: {
    routes: [],
    // The notification outbox: pending items through gsi2, one conditional put per attempt.
    dynamodbActions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
    timeoutSeconds: 60,
  },
} as const satisfies Record<string, { routes: readonly string[]; dynamodbActions: readonly string[]; timeoutSeconds: number; tableOnly?: boolean }>;
export type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];
