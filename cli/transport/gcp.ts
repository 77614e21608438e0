/**
 * `--via gcp:<function URL>`: the Cloud Function `api` at its URL, authenticated by a Google-signed
 * ID token whose audience is that URL (docs/direct-invocation.md). google-auth-library makes it
 * from the application default credentials: a service account key (GOOGLE_APPLICATION_CREDENTIALS)
 * or, on Google Cloud, the metadata server. The function verifies it and maps the token's email
 * through crossfade.yaml googlePrincipals. A token is reused until a minute before it expires.
 */
import { GoogleAuth } from 'google-auth-library';
import { DependencyUnavailableError, ValidationError } from '../../shared/domain/errors.js';
import type { ApiAnswer, ApiRequest, Transport } from './transport.js';

export interface GcpTransportOptions {
  /** The function's URL (`https://crossfade-api-<hash>-uc.a.run.app`): where requests go, and the tokens' audience. */
  url: string;
  /** Default: google-auth-library's application default credentials. */
  fetchIdToken?: (audience: string) => Promise<string>;
  now?: () => Date;
  timeoutMs?: number;
}

const REUSE_MARGIN_MS = 60_000;

export function createGcpTransport(options: GcpTransportOptions): Transport {
  const audience = functionUrl(options.url);
  const fetchIdToken = options.fetchIdToken ?? defaultIdTokens();
  const now = options.now ?? (() => new Date());
  let cached: { token: string; expiresAtMs: number } | undefined;

  async function idToken(): Promise<string> {
    if (cached && now().getTime() < cached.expiresAtMs - REUSE_MARGIN_MS) return cached.token;
    let token: string;
    try {
      token = await fetchIdToken(audience);
    } catch (error) {
      throw new DependencyUnavailableError(`Google credentials for gcp:${audience}`, 'make an ID token', { cause: error });
    }
    cached = { token, expiresAtMs: expiryOf(token) ?? 0 };
    return token;
  }

  return {
    target: `gcp:${audience}`,
    async send(request: ApiRequest): Promise<ApiAnswer> {
      const url = new URL(audience + request.path);
      for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
      const headers: Record<string, string> = { ...request.headers, authorization: `Bearer ${await idToken()}` };
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method,
          headers,
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        throw new DependencyUnavailableError(`gcp:${audience}`, `${request.method} ${request.path}`, { cause: error });
      }
      const answerHeaders: Record<string, string> = {};
      response.headers.forEach((value, name) => (answerHeaders[name] = value));
      const text = await response.text();
      return { statusCode: response.status, headers: answerHeaders, body: text === '' ? undefined : parseOrText(text) };
    },
  };
}

function functionUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(`--via gcp:${text}: not a URL (give the function's https URL)`, 'via', 'gcp-url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValidationError(`--via gcp:${text}: must be an http(s) URL`, 'via', 'gcp-url');
  return `${url.origin}${url.pathname.replace(/\/$/, '')}`;
}

function defaultIdTokens(): (audience: string) => Promise<string> {
  const auth = new GoogleAuth();
  return async (audience) => (await auth.getIdTokenClient(audience)).idTokenProvider.fetchIdToken(audience);
}

function expiryOf(token: string): number | undefined {
  try {
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
