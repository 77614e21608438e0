/**
 * Where crossfade may send requests of its own (shared/domain/outbound.ts): every configured URL is
 * checked at start against `outbound.allowedHosts`; link-local, unspecified and cloud-metadata hosts
 * are refused unless an entry names that exact host (a glob never opens them); loopback stays
 * allowed. A refusal is a ConfigError naming the key.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/domain/errors.js';
import { checkOutboundUrl, DEFAULT_OUTBOUND, hostOf, outboundRefusal, refusedHostClass } from '../../../shared/domain/outbound.js';

const KEY = 'policy.external[0].url';

function refusal(url: string, allowedHosts: readonly string[] = DEFAULT_OUTBOUND.allowedHosts): ConfigError {
  try {
    checkOutboundUrl(url, KEY, { allowedHosts });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(KEY);
    expect((error as ConfigError).message.startsWith(`${KEY}: `)).toBe(true);
    return error as ConfigError;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('checkOutboundUrl', () => {
  it.each([
    ['https://rules.example.com/v1/judge', ['*']],
    ['http://127.0.0.1:8080/judge', ['*']],
    ['http://localhost:9090', ['localhost']],
    ['http://[::1]:8080/', ['*']],
    ['https://rules.corp.example.com/', ['*.example.com']],
    ['https://RULES.example.com/', ['rules.example.com']],
  ])('accepts %s under %j and answers the URL', (url, allowedHosts) => {
    expect(checkOutboundUrl(url, KEY, { allowedHosts }).href).toBe(new URL(url).href);
  });

  it.each([
    ['not a URL', 'rules service', /is not a URL/],
    ['another scheme', 'ftp://rules.example.com/', /ftp: URLs are not allowed/],
    ['a file URL', 'file:///etc/passwd', /file: URLs are not allowed/],
    ['credentials in the URL', 'https://user:pw@rules.example.com/', /must not carry credentials/],
    ['the AWS metadata address', 'http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a cloud-metadata address/],
    ['the AWS metadata IPv6 address', 'http://[fd00:ec2::254]/', /fd00:ec2::254 is a cloud-metadata address/],
    ['the GCP metadata host', 'http://metadata.google.internal/computeMetadata/v1/', /metadata\.google\.internal is a cloud-metadata address/],
    ['a link-local address', 'http://169.254.10.1/', /169\.254\.10\.1 is a link-local address/],
    ['an IPv6 link-local address', 'http://[fe80::1]/', /fe80::1 is a link-local address/],
    ['the unspecified address', 'http://0.0.0.0:8080/', /0\.0\.0\.0 is a unspecified address/],
  ])('refuses %s, naming the key', (_name, url, message) => {
    expect(refusal(url).message).toMatch(message);
  });

  it('refuses a host outside allowedHosts, listing them', () => {
    expect(refusal('https://evil.example.net/', ['*.example.com', 'hooks.slack.com']).message).toMatch(/host evil\.example\.net is not in outbound\.allowedHosts \(\*\.example\.com, hooks\.slack\.com\)/);
    // A glob's dots are literal: `*.example.com` does not match a look-alike.
    expect(refusal('https://rules.exampleXcom/', ['*.example.com']).message).toMatch(/not in outbound\.allowedHosts/);
    expect(refusal('https://example.com/', ['*.example.com']).message).toMatch(/not in outbound\.allowedHosts/);
  });

  it('opens a metadata or link-local host only when allowedHosts names it exactly', () => {
    expect(refusal('http://169.254.169.254/', ['*', '169.254.*']).message).toMatch(/cloud-metadata/);
    expect(checkOutboundUrl('http://169.254.169.254/', KEY, { allowedHosts: ['169.254.169.254'] }).hostname).toBe('169.254.169.254');
    expect(checkOutboundUrl('http://metadata.google.internal/', KEY, { allowedHosts: ['metadata.google.internal'] }).hostname).toBe('metadata.google.internal');
  });
});

describe('outboundRefusal and refusedHostClass (hosts and resolved addresses at request time)', () => {
  it('say why a host is refused, or nothing', () => {
    expect(outboundRefusal('rules.example.com', DEFAULT_OUTBOUND)).toBeUndefined();
    expect(outboundRefusal('127.0.0.1', DEFAULT_OUTBOUND)).toBeUndefined();
    expect(outboundRefusal('169.254.169.254', DEFAULT_OUTBOUND)).toBe('host 169.254.169.254 is a cloud-metadata address');
    expect(outboundRefusal('10.0.0.1', { allowedHosts: ['*.example.com'] })).toBe('host 10.0.0.1 is not in outbound.allowedHosts');
  });

  it('classes metadata names and refused ranges; loopback and private addresses are not refused', () => {
    expect(refusedHostClass('metadata')).toBe('cloud-metadata');
    expect(refusedHostClass('instance-data.ec2.internal')).toBe('cloud-metadata');
    expect(refusedHostClass('169.254.1.1')).toBe('link-local');
    expect(refusedHostClass('::')).toBe('unspecified');
    expect(refusedHostClass('127.0.0.1')).toBeUndefined();
    expect(refusedHostClass('10.1.2.3')).toBeUndefined();
    expect(refusedHostClass('rules.example.com')).toBeUndefined();
  });

  it('hostOf strips IPv6 brackets and lower-cases', () => {
    expect(hostOf(new URL('http://[FE80::1]:80/'))).toBe('fe80::1');
    expect(hostOf(new URL('https://Rules.Example.COM/'))).toBe('rules.example.com');
  });
});
