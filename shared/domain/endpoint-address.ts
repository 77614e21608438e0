/**
 * Where the mesh may send a service's traffic. An endpoint is written into every proxy's
 * configuration, so an address on the proxy's own host (loopback, and 0.0.0.0, which Linux
 * connects to the host itself), on its link only (link-local), on many hosts (multicast), or at
 * the cloud's instance metadata service would have every proxy send requests, with their headers
 * and credentials, where they must not go. Those are refused unless crossfade.yaml
 * `mesh.allowedEndpointCidrs` allows a range (a test rig on 127.0.0.1).
 *
 * Addresses are compared as bytes, not text: `fd00::7` and `FD00:0::7` are one address, and
 * `::ffff:169.254.169.254` is the IPv4 address it maps (a dual-stack socket reaches it). Pure.
 */
import { isIP } from 'node:net';
import { ValidationError } from './errors.js';

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: readonly number[];
}

/** A network in CIDR notation, as written (`text`) and parsed. */
export interface Cidr extends IpAddress {
  text: string;
  prefixLength: number;
}

/** Parses an IPv4 or IPv6 literal; undefined for anything else (names, zone ids `fe80::1%eth0`). */
export function parseIp(text: string): IpAddress | undefined {
  const family = isIP(text);
  if (family === 4) return { family, bytes: text.split('.').map(Number) };
  if (family !== 6 || text.includes('%')) return undefined;
  let groups = text;
  const tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1]!.split('.').map(Number));
    groups = `${text.slice(0, dotted.index)}:0:0`;
  }
  const [head = '', rest] = groups.split('::');
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((word) => parseInt(word, 16)));
  const before = words(head);
  const after = rest === undefined ? [] : words(rest);
  const all = [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  const bytes = all.flatMap((word) => [word >> 8, word & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return { family, bytes };
}

export const CIDR_RULE = 'an IPv4 or IPv6 network in CIDR notation (127.0.0.0/8, fd00::/8) with no bit set after the prefix';

/** Parses `address/prefix`; undefined unless it is CIDR_RULE. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const ip = match ? parseIp(match[1]!) : undefined;
  if (!match || !ip) return undefined;
  const prefixLength = Number(match[2]);
  if (prefixLength > ip.bytes.length * 8) return undefined;
  const network = { family: ip.family, bytes: ip.bytes, text, prefixLength };
  return ip.bytes.every((byte, i) => (byte & ~maskByte(prefixLength, i) & 0xff) === 0) ? network : undefined;
}

function maskByte(prefixLength: number, index: number): number {
  const bits = Math.min(8, Math.max(0, prefixLength - index * 8));
  return (0xff << (8 - bits)) & 0xff;
}

export function contains(network: Cidr, address: IpAddress): boolean {
  return network.family === address.family && network.bytes.every((byte, i) => (address.bytes[i]! & maskByte(network.prefixLength, i)) === byte);
}

export const AddressClass = {
  CloudMetadata: 'cloud-metadata',
  Unspecified: 'unspecified',
  Loopback: 'loopback',
  LinkLocal: 'link-local',
  Multicast: 'multicast',
} as const;
export type AddressClassName = (typeof AddressClass)[keyof typeof AddressClass];

const cidr = (text: string): Cidr => parseCidr(text)!;

type RefusedRange = { kind: AddressClassName; network: Cidr };

/**
 * The ranges refused, most specific first: the metadata address is link-local too, and named for
 * what it is. Parsed on first use, not at import: node:net's first IPv6 check compiles a large
 * pattern, which every function's cold start would otherwise pay (docs/architecture.md "Cold start").
 */
const refusedRanges = (): readonly RefusedRange[] => [
  // AWS (IMDS over IPv4 and IPv6), GCP, Azure and most other clouds answer instance metadata here.
  { kind: AddressClass.CloudMetadata, network: cidr('169.254.169.254/32') },
  { kind: AddressClass.CloudMetadata, network: cidr('fd00:ec2::254/128') },
  { kind: AddressClass.Unspecified, network: cidr('0.0.0.0/8') },
  { kind: AddressClass.Unspecified, network: cidr('::/128') },
  { kind: AddressClass.Loopback, network: cidr('127.0.0.0/8') },
  { kind: AddressClass.Loopback, network: cidr('::1/128') },
  { kind: AddressClass.LinkLocal, network: cidr('169.254.0.0/16') },
  { kind: AddressClass.LinkLocal, network: cidr('fe80::/10') },
  { kind: AddressClass.Multicast, network: cidr('224.0.0.0/4') },
  { kind: AddressClass.Multicast, network: cidr('ff00::/8') },
];

let parsed: { ranges: readonly RefusedRange[]; ipv4Mapped: Cidr } | undefined;

/** The refused range an address falls in, or undefined when proxies may route to it. */
export function refusedRangeOf(address: IpAddress): RefusedRange | undefined {
  parsed ??= { ranges: refusedRanges(), ipv4Mapped: cidr('::ffff:0:0/96') };
  const seen = contains(parsed.ipv4Mapped, address) ? { family: 4 as const, bytes: address.bytes.slice(12) } : address;
  return parsed.ranges.find((range) => contains(range.network, seen));
}

/**
 * Throws ValidationError naming `field` (rule `no-<class>`) when `address` is in a refused range
 * that no allowed network covers. A metadata address is allowed only by a network naming it
 * alone (/32, /128): allowing 169.254.0.0/16 for some link-local service must not open it.
 * `address` must parse (checkEndpoint says so first).
 */
export function checkEndpointAddress(address: string, field: string, allowed: readonly Cidr[]): void {
  const ip = parseIp(address);
  if (!ip) throw new ValidationError(`${field} "${address}" must be an IPv4 or IPv6 address`, field, 'ip-address');
  const refused = refusedRangeOf(ip);
  if (!refused) return;
  const allows = (network: Cidr): boolean => contains(network, ip) && (refused.kind !== AddressClass.CloudMetadata || network.prefixLength === ip.bytes.length * 8);
  if (allowed.some(allows)) return;
  throw new ValidationError(
    `${field} ${address} is a ${refused.kind} address (${refused.network.text}): proxies must not route there (crossfade.yaml mesh.allowedEndpointCidrs can allow a range)`,
    field,
    `no-${refused.kind}`,
  );
}

/** One key per address and port, however the address is written. */
export function endpointKey(address: string, port: number): string {
  const ip = parseIp(address);
  return `${ip ? `${ip.family}:${ip.bytes.join('.')}` : address}|${port}`;
}

/** One list of a version's endpoints and where it is: `targets[1].endpoints` (given) or `targets[1].discovered`. */
export interface EndpointList {
  field: string;
  endpoints: readonly { address: string; port: number }[];
}

/**
 * Throws ValidationError (rule `endpoint-unique`) naming the second place an address and port
 * appears among one version's endpoint lists. The scope is the snapshot rule's
 * (engine/envoy/consistency.ts `duplicate-endpoint`, which gRPC NACKs): one ClusterLoadAssignment,
 * holding one version's endpoints from every cluster. Another version or service may use the same
 * address and port: each has its own assignment, and its own HAProxy server name.
 */
export function checkUniqueEndpoints(lists: readonly EndpointList[]): void {
  const first = new Map<string, string>();
  for (const { field, endpoints } of lists) {
    endpoints.forEach(({ address, port }, j) => {
      const where = `${field}[${j}]`;
      const key = endpointKey(address, port);
      const earlier = first.get(key);
      if (earlier !== undefined) {
        throw new ValidationError(`${where} ${address}:${port} is the same endpoint as ${earlier}: an endpoint appears once among a version's endpoints, across all its clusters`, where, 'endpoint-unique');
      }
      first.set(key, where);
    });
  }
}
