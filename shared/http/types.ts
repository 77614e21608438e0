/** The HTTP request and response every entry point converts to and from. */
export interface HttpRequest {
  method: string;
  /** The path without query string, e.g. `/v1/deployments/dep_1`. */
  path: string;
  /** First value of each query parameter. */
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The raw body bytes, or undefined when there is none. */
  body: Buffer | undefined;
  /** `scheme://host[:port]` the caller used, for absolute URLs when no publicBaseUrl is configured. */
  origin: string;
  /** The platform's request id (Lambda's, GCP's trace), or one made up by the entry point. */
  requestId: string;
}

/** What is known of a request before its body is read. */
export type RequestHead = Omit<HttpRequest, 'body'>;

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** A JSON document (docs/api.md: errors too); empty only for 304 Not Modified. */
  body: string;
}

/** Request bodies above this are refused before they are parsed (docs/api.md). */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * Objects and arrays nest at most this deep in a request body (docs/api.md). crossfade's own documents
 * need 6 levels; Envoy's node metadata is free-form, hence the room.
 */
export const MAX_JSON_DEPTH = 32;

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
