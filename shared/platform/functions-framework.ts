/**
 * GCP Cloud Functions through functions-framework: an HTTP function serving the HTTP core.
 *
 * functions-framework parses bodies with body-parser before our function runs, and a JSON body it
 * cannot parse (Content-Type: application/json) never reaches us: Express answers with an HTML
 * 400 page. docs/api.md wants JSON errors, identical on every platform, so `routeBodyParserErrorsToUs`
 * makes Express hand such requests to our function too, with the raw bytes body-parser kept; the
 * core then refuses them with the same document as on AWS and locally. A body in a charset body-parser
 * will not decode reaches us the same way, unread, and the core decodes it.
 * (body-parser errors carry `type`: https://github.com/expressjs/body-parser#errors)
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { respond, type HttpHandler } from '../http/handle.js';
import type { HttpRequest, HttpResponse } from '../http/types.js';
import { readBody } from './node-http.js';

/** The part of Express's request that we read. */
export interface FrameworkRequest extends IncomingMessage {
  path: string;
  query: Record<string, unknown>;
  protocol: string;
  rawBody?: Buffer;
}

export type FrameworkHandler = (req: FrameworkRequest, res: ServerResponse) => Promise<void>;

export function functionsFrameworkHandler(build: () => HttpHandler): FrameworkHandler {
  let handle: HttpHandler | undefined;
  return async function serveCloudFunctionRequest(req, res) {
    handle ??= build();
    const response = await handle(await toRequest(req));
    send(res, response);
  };
}

async function toRequest(req: FrameworkRequest): Promise<HttpRequest> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.query ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') query[name] = first;
  }
  // body-parser keeps the raw bytes of every body it read; a body it did not read (no
  // Content-Type at all) is still in the stream.
  const body = req.rawBody ?? (req.readableEnded ? undefined : await readBody(req));
  const trace = headers['x-cloud-trace-context']?.split('/')[0];
  return {
    method: req.method ?? 'GET',
    path: req.path,
    query,
    headers,
    body,
    // Cloud Functions terminates TLS in front of us; `trust proxy` is on, so protocol reads X-Forwarded-Proto.
    origin: `${req.protocol}://${headers['host'] ?? 'localhost'}`,
    requestId: trace || randomUUID(),
  };
}

function send(res: ServerResponse, response: HttpResponse): void {
  res.writeHead(response.statusCode, response.headers);
  res.end(response.body);
}

interface ExpressApplicationPrototype {
  handle(this: unknown, req: IncomingMessage, res: ServerResponse, callback?: (error?: unknown) => void): void;
}

let installed = false;

/**
 * Patches Express's final handler so that body-parser failures reach `handler`. Must run before
 * functions-framework builds its server, i.e. when our module is loaded. Idempotent.
 */
export function routeBodyParserErrorsToUs(handler: FrameworkHandler): void {
  if (installed) return;
  installed = true;
  const frameworkRequire = createRequire(createRequire(import.meta.url).resolve('@google-cloud/functions-framework'));
  const application = (frameworkRequire('express') as { application: ExpressApplicationPrototype }).application;
  const original = application.handle;
  application.handle = function handleWithJsonErrors(req, res, callback) {
    original.call(this, req, res, callback ?? ((error?: unknown) => void lastResort(handler, error, req as FrameworkRequest, res)));
  };
}

async function lastResort(handler: FrameworkHandler, error: unknown, req: FrameworkRequest, res: ServerResponse): Promise<void> {
  if (res.headersSent) return;
  const type = (error as { type?: unknown } | undefined)?.type;
  // A charset body-parser does not decode (it refuses JSON in anything but UTF-*, before reading the
  // body): ours decodes ISO-8859-1 and names what it cannot (shared/http/charset.ts).
  if (type === 'entity.parse.failed' || type === 'charset.unsupported' || type === 'encoding.unsupported') return handler(req, res);
  if (error === undefined) return send(res, respond(404, { error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.url}` } }));
  const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
  const code = status < 500 ? 'VALIDATION_FAILED' : 'INTERNAL';
  send(res, respond(status < 500 ? 400 : 500, { error: { code, message: status < 500 ? `request body cannot be read: ${String(type ?? 'invalid')}` : 'internal error' } }));
}
