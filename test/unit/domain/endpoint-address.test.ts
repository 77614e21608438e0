/** Where the mesh may send traffic, and each endpoint once per version (shared/domain/endpoint-address.ts). */
import { describe, expect, it } from 'vitest';
import { checkEndpointAddress, checkUniqueEndpoints, endpointKey, parseCidr, parseIp, type Cidr } from '../../../shared/domain/endpoint-address.js';
import { validationErrorOf } from '../../support/errors.js';

const cidrs = (...texts: string[]): Cidr[] => texts.map((text) => parseCidr(text)!);

describe('parseIp', () => {
  it.each([
    ['10.0.0.7', 4, [10, 0, 0, 7]],
    ['fd00::7', 6, [0xfd, 0, ...new Array(13).fill(0), 7]],
    ['FD00:0:0::7', 6, [0xfd, 0, ...new Array(13).fill(0), 7]],
    ['::', 6, new Array(16).fill(0)],
    ['::ffff:169.254.169.254', 6, [...new Array(10).fill(0), 0xff, 0xff, 169, 254, 169, 254]],
    ['1:2:3:4:5:6:7:8', 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
  ])('%s is IPv%i %j', (text, family, bytes) => {
    expect(parseIp(text)).toEqual({ family, bytes });
  });

  it.each(['checkout.internal', '10.0.0.256', '010.0.0.1', 'fe80::1%eth0', '', '1::2::3'])('%j is not an address', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

describe('parseCidr', () => {
  it.each(['127.0.0.0/8', '10.1.2.3/32', '0.0.0.0/0', 'fd00::/8', '::1/128', 'fd00:ec2::254/128'])('accepts %s', (text) => {
    expect(parseCidr(text)).toMatchObject({ text });
  });

  it.each(['127.0.0.1', '127.0.0.1/8', '10.0.0.0/33', 'fd00::1/8', '::/129', 'localhost/8', '10.0.0.0/-1', '10.0.0.0/08x'])('refuses %s', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('checkEndpointAddress: the address classes refused, each with its rule', () => {
  it.each([
    ['127.0.0.1', 'no-loopback', '127.0.0.0/8'],
    ['127.255.3.4', 'no-loopback', '127.0.0.0/8'],
    ['::1', 'no-loopback', '::1/128'],
    ['::ffff:127.0.0.1', 'no-loopback', '127.0.0.0/8'],
    ['169.254.10.1', 'no-link-local', '169.254.0.0/16'],
    ['fe80::1', 'no-link-local', 'fe80::/10'],
    ['febf::1', 'no-link-local', 'fe80::/10'],
    ['0.0.0.0', 'no-unspecified', '0.0.0.0/8'],
    ['0.1.2.3', 'no-unspecified', '0.0.0.0/8'],
    ['::', 'no-unspecified', '::/128'],
    ['224.0.0.1', 'no-multicast', '224.0.0.0/4'],
    ['239.255.255.250', 'no-multicast', '224.0.0.0/4'],
    ['ff02::1', 'no-multicast', 'ff00::/8'],
    ['169.254.169.254', 'no-cloud-metadata', '169.254.169.254/32'],
    ['fd00:ec2::254', 'no-cloud-metadata', 'fd00:ec2::254/128'],
    ['FD00:EC2:0::254', 'no-cloud-metadata', 'fd00:ec2::254/128'],
    ['::ffff:169.254.169.254', 'no-cloud-metadata', '169.254.169.254/32'],
  ])('%s is refused (%s), naming the field and the range', (address, rule, range) => {
    const error = validationErrorOf(() => checkEndpointAddress(address, 'targets[0].endpoints[1].address', []));
    expect(error).toMatchObject({ field: 'targets[0].endpoints[1].address', rule });
    expect(error.message).toContain(`targets[0].endpoints[1].address ${address} is a ${rule.slice(3)} address (${range})`);
    expect(error.message).toContain('mesh.allowedEndpointCidrs');
  });

  it.each(['10.0.0.7', '172.16.4.2', '192.168.1.1', '100.64.0.1', '8.8.8.8', '169.253.255.255', '169.255.0.1', 'fd00::7', 'fec0::1', '2600:1f18::1', '223.255.255.255', '240.0.0.1'])('%s is accepted', (address) => {
    expect(() => checkEndpointAddress(address, 'f', [])).not.toThrow();
  });

  it('an allowed network lets its addresses through, and only those', () => {
    const allowed = cidrs('127.0.0.0/8', 'fe80::/64');
    expect(() => checkEndpointAddress('127.0.0.1', 'f', allowed)).not.toThrow();
    expect(() => checkEndpointAddress('fe80::1', 'f', allowed)).not.toThrow();
    expect(validationErrorOf(() => checkEndpointAddress('::1', 'f', allowed))).toMatchObject({ rule: 'no-loopback' });
    expect(validationErrorOf(() => checkEndpointAddress('fe80:0:0:1::1', 'f', allowed))).toMatchObject({ rule: 'no-link-local' });
    expect(validationErrorOf(() => checkEndpointAddress('169.254.1.1', 'f', allowed))).toMatchObject({ rule: 'no-link-local' });
  });

  it('a metadata address is allowed only by a network naming it alone', () => {
    expect(validationErrorOf(() => checkEndpointAddress('169.254.169.254', 'f', cidrs('169.254.0.0/16')))).toMatchObject({ rule: 'no-cloud-metadata' });
    expect(validationErrorOf(() => checkEndpointAddress('fd00:ec2::254', 'f', cidrs('fd00::/8')))).toMatchObject({ rule: 'no-cloud-metadata' });
    expect(() => checkEndpointAddress('169.254.1.1', 'f', cidrs('169.254.0.0/16'))).not.toThrow();
    expect(() => checkEndpointAddress('169.254.169.254', 'f', cidrs('169.254.169.254/32'))).not.toThrow();
  });

  it('an address that does not parse is refused as not an address', () => {
    expect(validationErrorOf(() => checkEndpointAddress('fe80::1%eth0', 'f', []))).toMatchObject({ field: 'f', rule: 'ip-address' });
  });
});

describe('checkUniqueEndpoints: once per version, across all its clusters', () => {
  const list = (field: string, ...endpoints: string[]) => ({ field, endpoints: endpoints.map((e) => ({ address: e.slice(0, e.lastIndexOf(':')), port: Number(e.slice(e.lastIndexOf(':') + 1)) })) });

  it.each([
    ['twice in one list', [list('targets[0].endpoints', '10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.1:8080')], 'targets[0].endpoints[2]', 'targets[0].endpoints[0]'],
    ['in two clusters', [list('targets[0].endpoints', '10.60.0.9:8080'), list('targets[1].endpoints', '10.60.0.9:8080')], 'targets[1].endpoints[0]', 'targets[0].endpoints[0]'],
    ['given in one cluster, discovered in another', [list('targets[0].endpoints', '10.0.0.1:80'), list('targets[1].discovered', '10.0.0.9:80', '10.0.0.1:80')], 'targets[1].discovered[1]', 'targets[0].endpoints[0]'],
    ['written two ways', [list('targets[0].endpoints', 'fd00::7:8080', 'FD00:0::7:8080')], 'targets[0].endpoints[1]', 'targets[0].endpoints[0]'],
  ])('refuses an endpoint %s, naming both places', (_name, lists, field, earlier) => {
    const error = validationErrorOf(() => checkUniqueEndpoints(lists));
    expect(error).toMatchObject({ field, rule: 'endpoint-unique' });
    expect(error.message).toContain(`is the same endpoint as ${earlier}`);
  });

  it('accepts one address on two ports, and two addresses on one port', () => {
    expect(() => checkUniqueEndpoints([list('a', '10.0.0.1:8080', '10.0.0.1:8081'), list('b', '10.0.0.2:8080')])).not.toThrow();
  });

  it('keys an address and port however the address is written', () => {
    expect(endpointKey('fd00::7', 8080)).toBe(endpointKey('FD00:0:0::7', 8080));
    expect(endpointKey('10.0.0.1', 8080)).not.toBe(endpointKey('::ffff:10.0.0.1', 8080));
  });
});
