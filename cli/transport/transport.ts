/**
 * How the CLI reaches crossfade: one request in, one answer out, whatever carries it — HTTP with a
 * bearer token, AWS Lambda Invoke with a presigned STS identity, or a Cloud Function's URL with a
 * Google ID token. Every transport answers the API's own status codes and documents (docs/api.md),
 * so a command never knows which one it uses.
 */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path without its query, e.g. `/v1/deployments/dep_1/cancel`. */
  path: string;
  query?: Record<string, string>;
  /** Extra headers, lower-case names (`if-none-match`, `x-idempotency-key`). */
  headers?: Record<string, string>;
  /** A JSON-serialisable body; undefined: none. */
  body?: unknown;
}

export interface ApiAnswer {
  statusCode: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The parsed JSON document; undefined for a 304 or an empty body. */
  body: unknown;
}

export interface Transport {
  /**
   * Sends one request. An answer of any status code resolves; only "nothing answered" (after the
   * transport's own retries) rejects, with DependencyUnavailableError naming the target.
   */
  send(request: ApiRequest): Promise<ApiAnswer>;
  /** Where requests go, for messages: `https://crossfade.example.com`, `lambda:crossfade-prod`. */
  readonly target: string;
}
