/**
 * Where crossfade may send requests of its own (docs/configuration.md `outbound`): the external
 * rules service, notification webhooks, metrics providers. Every such URL comes from the
 * configuration, never from a request body, and is checked here when the configuration loads, so a
 * bad one stops the start naming its key instead of failing the first deploy.
 *
 * - The host must match one of `outbound.allowedHosts` (globs, `*` any run of characters; default
 *   `["*"]`).
 * - Link-local, unspecified and cloud-metadata addresses (169.254.169.254, fd00:ec2::254,
 *   metadata.google.internal, ...) are refused unless an entry of `allowedHosts` names that exact
 *   host: a glob such as `*` never opens them. Metadata endpoints hand out the function's own cloud
 *   credentials, so a mistyped or malicious URL there is the classic server-side request forgery.
 * - Loopback stays allowed: it is where the local stack's and the tests' receivers listen.
 *
 * A name that resolves to a refused address at request time is caught by adapters/outbound/fetch.ts.
 */
import { AddressClass, parseIp, refusedRangeOf, type IpAddress } from './endpoint-address.js';
import { ConfigError } from './errors.js';

export interface OutboundSettings {
  /** Host globs requests may go to (`hooks.slack.com`, `*.example.com`, `127.0.0.1`). */
  allowedHosts: readonly string[];
}

export const DEFAULT_OUTBOUND: OutboundSettings = { allowedHosts: ['*'] };

/** Names that cloud metadata services answer on, whatever they resolve to. */
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** An outbound URL, checked: throws ConfigError naming `key` and the rule it breaks. */
export function checkOutboundUrl(text: string, key: string, settings: OutboundSettings): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${key}: "${text}" is not a URL`, key);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${key}: ${url.protocol} URLs are not allowed (http or https only)`, key);
  if (url.username || url.password) throw new ConfigError(`${key}: must not carry credentials in the URL (use the secret settings)`, key);
  const host = hostOf(url);
  if (!settings.allowedHosts.some((glob) => hostMatches(glob, host))) {
    throw new ConfigError(`${key}: host ${host} is not in outbound.allowedHosts (${settings.allowedHosts.join(', ') || 'none'})`, key);
  }
  const refused = refusedHostClass(host);
  if (refused !== undefined && !settings.allowedHosts.includes(host)) {
    throw new ConfigError(`${key}: host ${host} is a ${refused} address; crossfade refuses to call it unless outbound.allowedHosts names ${host} exactly`, key);
  }
  return url;
}

/** Whether a host (a name, or an address a name resolved to) may be called under `settings`: undefined when it may, else why not. */
export function outboundRefusal(host: string, settings: OutboundSettings): string | undefined {
  if (!settings.allowedHosts.some((glob) => hostMatches(glob, host))) return `host ${host} is not in outbound.allowedHosts`;
  const refused = refusedHostClass(host);
  if (refused !== undefined && !settings.allowedHosts.includes(host)) return `host ${host} is a ${refused} address`;
  return undefined;
}

/** The class of a refused host ('link-local', 'cloud-metadata', 'unspecified'), or undefined; loopback and multicast are not refused here. */
export function refusedHostClass(host: string): string | undefined {
  if (METADATA_HOSTS.has(host)) return AddressClass.CloudMetadata;
  const ip: IpAddress | undefined = parseIp(host);
  if (!ip) return undefined;
  const kind = refusedRangeOf(ip)?.kind;
  return kind === AddressClass.CloudMetadata || kind === AddressClass.LinkLocal || kind === AddressClass.Unspecified ? kind : undefined;
}

/** The URL's host without IPv6 brackets, lower case. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function hostMatches(glob: string, host: string): boolean {
  const pattern = glob.toLowerCase().split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`).test(host);
}
