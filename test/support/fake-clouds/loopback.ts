/**
 * What every fake cloud API shares: a server on 127.0.0.1 at a free port that records what it was
 * asked and stops cleanly (hanging responses included), and a throwaway CA for the fakes that
 * speak TLS. Node cannot mint X.509 certificates, so the openssl CLI does (Debian's `openssl`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export function record(request: IncomingMessage, into: RecordedRequest[]): RecordedRequest {
  const url = new URL(request.url ?? '/', 'http://fake');
  const recorded = { method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: request.headers };
  into.push(recorded);
  return recorded;
}

/** Reads the request's whole body as text, then calls `handle` with it (the AWS fakes answer only then). */
export function withBody(request: IncomingMessage, handle: (text: string) => void): void {
  let text = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (text += chunk));
  request.on('end', () => handle(text));
}

/** Listens on 127.0.0.1 at a free port; stop() also cuts connections a hanging response holds. */
export async function listenOnLoopback(server: HttpServer | HttpsServer): Promise<{ port: number; stop: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake server has no TCP address');
  return {
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface TestCertificates {
  /** The CA a fake cloud reports for its clusters. */
  caPem: string;
  /** The Kubernetes fakes' certificate (SAN IP:127.0.0.1), signed by caPem, and its key. */
  serverCertPem: string;
  serverKeyPem: string;
  /** Another CA, which signed nothing: a cluster reported with it must not be trusted. */
  otherCaPem: string;
}

export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-tls-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    for (const ca of ['ca', 'other-ca']) {
      openssl('req', '-x509', ...ecKey, '-keyout', at(`${ca}.key`), '-out', at(`${ca}.pem`), '-days', '2', '-subj', `/CN=crossfade test ${ca}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    }
    openssl('req', '-new', ...ecKey, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=127.0.0.1');
    writeFileSync(at('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial',
      '-out', at('server.pem'), '-days', '2', '-extfile', at('server.ext'));
    const read = (name: string) => readFileSync(at(name), 'utf8');
    return { caPem: read('ca.pem'), serverCertPem: read('server.pem'), serverKeyPem: read('server.key'), otherCaPem: read('other-ca.pem') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
