import type { Page, PageRequest } from './page.js';

/** One recorded change: who (token id), what, when, why (docs/api.md: "every mutation is recorded"). */
export interface AuditEvent {
  /** What changed, as `kind/id`: `deployment/dep_...`, `service/checkout`. */
  subject: string;
  /**
   * Unique within the subject and sortable in the order events happened. Callers derive it from
   * something a retry repeats (a deployment's version), so a retried write records one event.
   */
  eventId: string;
  at: string;
  actor: string;
  action: string;
  reason: string | null;
  details: Record<string, unknown>;
}

export interface AuditLog {
  /** Stores the event once: appending an event whose subject and eventId exist is a no-op. Throws DependencyUnavailableError. */
  append(event: AuditEvent): Promise<void>;

  /** Oldest first. */
  list(subject: string, page: PageRequest): Promise<Page<AuditEvent>>;
}
