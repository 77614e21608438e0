/**
 * Structured logs. Adapters write one JSON object per line (CloudWatch and Cloud Logging both
 * index them). Callers never pass secrets; adapters still redact keys that look like credentials.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (a request id, a deployment id). */
  child(fields: Record<string, unknown>): Logger;
}
