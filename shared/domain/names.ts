/**
 * Naming rules for what ends up inside proxy config and Kubernetes objects. A service name becomes
 * part of an HAProxy backend, an Envoy cluster and a DynamoDB key, so it is held to the strictest of
 * them: a DNS-1123 label (lower-case letters, digits, '-'; starts with a letter; at most 63).
 */
export const SERVICE_NAME_PATTERN = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const SERVICE_NAME_RULE = 'a DNS-1123 label: 1-63 lower-case letters, digits or "-", starting with a letter and not ending with "-"';

/** Versions are image tags or git refs: letters, digits, '.', '_', '-', at most 64, no leading punctuation. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const VERSION_RULE = '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Cluster and proxy-group names share the service rule: they appear in the same proxy names. */
export const RESOURCE_NAME_PATTERN = SERVICE_NAME_PATTERN;

export function isServiceName(value: string): boolean {
  return SERVICE_NAME_PATTERN.test(value);
}
