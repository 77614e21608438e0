/**
 * A minimal Transport over fetch for tests of what the CLI builds on it (the watch), standing in for
 * the CLI's own HTTP transport: bearer token, JSON both ways, no retries of its own, and "nothing
 * answered" as DependencyUnavailableError naming the URL, as the Transport contract says.
 */
import { DependencyUnavailableError } from '../../shared/domain/errors.js';
import type { ApiAnswer, ApiRequest, Transport } from '../../cli/transport/transport.js';

export function fetchTransport(baseUrl: string, token: string): Transport & { requests: ApiRequest[] } {
  const requests: ApiRequest[] = [];
  return {
    target: baseUrl,
    requests,
    async send(request: ApiRequest): Promise<ApiAnswer> {
      requests.push(request);
      const query = request.query && Object.keys(request.query).length > 0 ? `?${new URLSearchParams(request.query).toString()}` : '';
      let response: Response;
      try {
        response = await fetch(`${baseUrl}${request.path}${query}`, {
          method: request.method,
          headers: { authorization: `Bearer ${token}`, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (error) {
        throw new DependencyUnavailableError(`crossfade at ${baseUrl}`, `${request.method} ${request.path}`, { cause: error });
      }
      const text = await response.text();
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      return { statusCode: response.status, headers, body: text === '' ? undefined : JSON.parse(text) };
    },
  };
}
