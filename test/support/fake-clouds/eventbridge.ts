/**
 * A fake of EventBridge's PutEvents on loopback, in the protocol @aws-sdk/client-eventbridge speaks:
 * awsJson1_1 (`POST /`, `X-Amz-Target: AWSEvents.PutEvents`, `application/x-amz-json-1.1`). A request
 * must be SigV4-signed for service `events` (else 403 as the real API answers an unsigned call);
 * each accepted entry is recorded and answered with an EventId. `failNext(n)` makes the next n calls
 * answer 200 with the entries failed (FailedEntryCount), as a throttled bus does.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback, withBody } from './loopback.js';

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
  Time?: number;
}

export interface FakeEventBridge {
  endpoint: string;
  /** Accepted entries, in order. */
  entries: PutEventsEntry[];
  /** Calls refused for their signature. */
  unsigned: number;
  failNext(count: number): void;
  stop(): Promise<void>;
}

const SIGV4 = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/events\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/;

export async function startFakeEventBridge(): Promise<FakeEventBridge> {
  const entries: PutEventsEntry[] = [];
  let failing = 0;
  const fake = { entries, unsigned: 0 };
  const server = createServer((request, response) => {
    withBody(request, (text) => {
      const answer = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(body));
      };
      if (!SIGV4.test(String(request.headers['authorization'] ?? ''))) {
        fake.unsigned++;
        return answer(403, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
      }
      if (request.headers['x-amz-target'] !== 'AWSEvents.PutEvents') return answer(400, { __type: 'UnknownOperationException' });
      const body = JSON.parse(text) as { Entries: PutEventsEntry[] };
      if (failing > 0) {
        failing--;
        return answer(200, { FailedEntryCount: body.Entries.length, Entries: body.Entries.map(() => ({ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' })) });
      }
      entries.push(...body.Entries);
      answer(200, { FailedEntryCount: 0, Entries: body.Entries.map(() => ({ EventId: randomUUID() })) });
    });
  });
  const { port, stop } = await listenOnLoopback(server);
  return Object.assign(fake, { endpoint: `http://127.0.0.1:${port}`, failNext: (count: number) => void (failing = count), stop });
}
