/**
 * The watch's loop (watch.ts, reads.ts) against a scripted Transport (the CLI's own port): polls
 * with If-None-Match, decides "changed" itself when no ETag comes, reads events and proxy state
 * only when the deployment changed or every few polls, shows and retries what may pass, throws
 * what will not, ends with the deployment or its signal, and reads events on from where it stopped.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventFeed } from '../../../../cli/watch/reads.js';
import { watchDeployment } from '../../../../cli/watch/watch.js';
import type { ApiAnswer, ApiRequest, Transport } from '../../../../cli/transport/transport.js';
import { DependencyUnavailableError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../../../shared/domain/errors.js';
import type { StatusDocument } from '../../../../shared/http/status-document.js';
import type { AuditEvent } from '../../../../shared/ports/audit-log.js';
import { VirtualTerminal } from '../../../support/virtual-terminal.js';
import { recorded } from './recorded.js';

type Reply = ApiAnswer | Error;

/** Answers deployment reads from `replies` in order (the last one repeats); events and the service from the recorded run. */
function scripted(replies: Reply[], more: (request: ApiRequest) => Reply | undefined = () => undefined): Transport & { requests: ApiRequest[] } {
  const requests: ApiRequest[] = [];
  const { view } = recorded('judged');
  let next = 0;
  return {
    target: 'http://crossfade.test',
    requests,
    async send(request) {
      requests.push(request);
      const reply = more(request) ?? (request.path.endsWith('/events') ? ok({ items: view.events, nextCursor: null }) : request.path.startsWith('/v1/services/') ? ok(view.service) : replies[Math.min(next++, replies.length - 1)]!);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  };
}

function ok(body: unknown, etag?: string): ApiAnswer {
  return { statusCode: 200, headers: etag ? { etag } : {}, body };
}

const notModified: ApiAnswer = { statusCode: 304, headers: {}, body: undefined };
const refused = (statusCode: number, code: string, message: string, rule?: string): ApiAnswer => ({ statusCode, headers: {}, body: { error: { code, message, ...(rule ? { rule } : {}) } } });

const running = recorded('judged').view.deployment;
const later: StatusDocument = { ...running, progress: 'step 4/5: analysis 2/2, score 100', updatedAt: new Date(Date.parse(running.updatedAt) + 5000).toISOString() };
const done = recorded('succeeded').view.deployment;

function output(): PassThrough & { text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return Object.assign(stream, { text: () => text });
}

const deploymentReads = (t: { requests: ApiRequest[] }) => t.requests.filter((r) => r.path === `/v1/deployments/${running.id}`);

describe('watchDeployment', () => {
  it('sends back the ETag it got, keeps its document on 304, prints one line per change and answers the last document', async () => {
    const transport = scripted([ok(running, '"a"'), notModified, notModified, ok(later, '"b"'), ok(done, '"c"')]);
    const out = output();
    const last = await watchDeployment(transport, running.id, { out, tty: false, color: false, intervalMs: 1 });
    expect(last).toEqual(done);
    expect(deploymentReads(transport).map((r) => r.headers?.['if-none-match'])).toEqual([undefined, '"a"', '"a"', '"a"', '"b"']);
    const lines = out.text().trimEnd().split('\n');
    expect(lines.map((line) => line.slice(9))).toEqual([
      `RUNNING step 4/5 weight aws 0% gcp 20% ${running.progress.replace('step 4/5: ', '')}`,
      'RUNNING step 4/5 weight aws 0% gcp 20% analysis 2/2, score 100',
      'SUCCEEDED step 5/5 weight 100% promoted: v2 serves 100% [unverified: envoy-usc1]',
    ]);
    // Off a terminal the watch reads nothing but the deployment.
    expect(transport.requests.every((r) => r.path === `/v1/deployments/${running.id}`)).toBe(true);
  });

  it('without ETags, compares documents itself: events and proxy state are read when one changed, and every fifth poll', async () => {
    const transport = scripted([...Array.from({ length: 10 }, () => ok(running)), ok(done)]);
    const out = output();
    await watchDeployment(transport, running.id, { out, tty: true, color: false, intervalMs: 1 });
    expect(deploymentReads(transport).every((r) => r.headers?.['if-none-match'] === undefined)).toBe(true);
    // Polls 0 (new), 5 (the fifth after it) and 10 (changed, and ended).
    expect(transport.requests.filter((r) => r.path.endsWith('/events'))).toHaveLength(3);
    expect(transport.requests.filter((r) => r.path === `/v1/services/${running.service}`)).toHaveLength(3);
  });

  it('shows what may pass (nothing answered, 5xx, 429) and tries again', async () => {
    const transport = scripted([
      new DependencyUnavailableError('crossfade at http://crossfade.test', 'GET /v1/deployments/x'),
      refused(503, 'UNAVAILABLE', 'DynamoDB table crossfade: read deployment failed'),
      refused(429, 'THROTTLED', 'DynamoDB throttled'),
      ok(done),
    ]);
    const out = output();
    expect(await watchDeployment(transport, running.id, { out, tty: false, color: false, intervalMs: 1 })).toEqual(done);
    expect(out.text().trimEnd().split('\n').map((line) => line.slice(9))).toEqual([
      'cannot read the deployment (attempt 1): crossfade at http://crossfade.test: GET /v1/deployments/x failed; retrying',
      'cannot read the deployment (attempt 2): 503 UNAVAILABLE: DynamoDB table crossfade: read deployment failed; retrying',
      'cannot read the deployment (attempt 3): 429 THROTTLED: DynamoDB throttled; retrying',
      'SUCCEEDED step 5/5 weight 100% promoted: v2 serves 100% [unverified: envoy-usc1]',
    ]);
  });

  it('throws the error of an answer that asking again will not change: 404, 401, 403', async () => {
    const watch = (reply: Reply) => watchDeployment(scripted([ok(running, '"a"'), reply]), running.id, { out: output(), tty: false, color: false, intervalMs: 1 });
    await expect(watch(refused(404, 'NOT_FOUND', 'deployment dep_x does not exist'))).rejects.toThrow(new NotFoundError('deployment dep_x does not exist'));
    await expect(watch(refused(401, 'UNAUTHENTICATED', 'unknown token'))).rejects.toBeInstanceOf(UnauthenticatedError);
    const forbidden = await watch(refused(403, 'FORBIDDEN', 'token reader may not read checkout', 'scope')).catch((error: unknown) => error);
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect(forbidden).toMatchObject({ message: 'token reader may not read checkout', rule: 'scope' });
  });

  it('stops when its signal aborts: answers the last document read, or the reason when none was', async () => {
    const stop = new AbortController();
    const transport = scripted([ok(running, '"a"')], (request) => {
      if (request.headers?.['if-none-match']) stop.abort(new Error('timed out'));
      return undefined;
    });
    expect(await watchDeployment(transport, running.id, { out: output(), tty: false, color: false, intervalMs: 1, signal: stop.signal })).toEqual(running);

    const never = new AbortController();
    const unreachable = scripted([new DependencyUnavailableError('crossfade', 'GET')], () => {
      never.abort(new Error('gave up'));
      return undefined;
    });
    await expect(watchDeployment(unreachable, running.id, { out: output(), tty: false, color: false, intervalMs: 1, signal: never.signal })).rejects.toThrow('gave up');
  });

  it('on a terminal, redraws one frame in place with the cursor hidden, and leaves the last frame and the cursor shown', async () => {
    const listeners = process.listenerCount('SIGINT');
    const out = output();
    await watchDeployment(scripted([ok(running, '"a"'), ok(later, '"b"'), ok(done, '"c"')]), running.id, { out, tty: true, color: true, intervalMs: 1 });
    const screen = new VirtualTerminal();
    screen.write(out.text());
    expect(screen.cursorChanges).toEqual(['hide', 'show']);
    expect(screen.frames.length).toBeGreaterThanOrEqual(3);
    expect(screen.frames[0]).toContain('▶ 4 analysis golden');
    expect(screen.screen()).toBe(screen.frames.at(-1));
    expect(screen.screen().split('\n')[0]).toMatch(/^checkout {2}v1 → v2 {3}SUCCEEDED/);
    // One frame's height: every frame was drawn over the one before.
    expect(screen.height).toBe(screen.frames.at(-1)!.split('\n').length);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });
});

describe('EventFeed', () => {
  /** An audit log paged two at a time, cursors being the index to start from. */
  function pagedEvents(events: AuditEvent[]) {
    return scripted([], (request) => {
      if (!request.path.endsWith('/events')) return undefined;
      const from = Number(request.query?.['cursor'] ?? 0);
      return ok({ items: events.slice(from, from + 2), nextCursor: from + 2 < events.length ? String(from + 2) : null });
    });
  }
  const event = (n: number, action = 'deployment.hold'): AuditEvent => ({ subject: 'deployment/dep_1', eventId: `v${String(n).padStart(6, '0')}-x`, at: new Date(n * 1000).toISOString(), actor: 'crossfade-canary', action, reason: null, details: {} });

  it('reads on from the last page that had events, without repeating one', async () => {
    const events = [1, 2, 3].map((n) => event(n));
    const transport = pagedEvents(events);
    const feed = new EventFeed(transport, 'dep_1');
    await feed.refresh();
    events.push(event(4), event(5));
    await feed.refresh();
    expect(feed.recent.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(transport.requests.map((r) => r.query?.['cursor'])).toEqual([undefined, '2', '2', '4']);
  });

  it('keeps the last judgment however many events follow it', async () => {
    const { view } = recorded('judged');
    const judge = view.events.find((e) => e.action === 'deployment.judge')!;
    const events = [judge, ...Array.from({ length: 30 }, (_, i) => event(100 + i))];
    const feed = new EventFeed(pagedEvents(events), 'dep_1');
    await feed.refresh();
    expect(feed.recent).not.toContain(judge);
    expect(feed.judgment).toMatchObject({ kind: 'judged', at: judge.at, result: { summary: { score: 100, classification: 'Pass' } } });
  });
});
