/**
 * One page of an audit timeline (docs/api.md `GET …/events`): a deployment's or a service's, oldest
 * first, 100 events unless `limit` says fewer.
 */
import type { AuditLog } from '../ports/audit-log.js';
import { parsePageQuery } from './page-query.js';

export async function auditTimeline(audit: AuditLog, subject: string, query: Record<string, string>): Promise<{ items: unknown[]; nextCursor: string | null }> {
  const { limit, cursor } = parsePageQuery(query, [], 100);
  const page = await audit.list(subject, cursor === undefined ? { limit } : { limit, cursor });
  return { items: page.items, nextCursor: page.nextCursor ?? null };
}
