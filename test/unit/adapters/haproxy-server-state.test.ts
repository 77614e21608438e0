/**
 * The servers file `crossfade haproxy-state save` writes: what HAProxy reads as config after a
 * reload, so it must be exact, stable, and never declare a backend haproxy.cfg owns.
 */
import { describe, expect, it } from 'vitest';
import { haproxyBackendName } from '../../../shared/adapters/haproxy/haproxy-router.js';
import type { ServerState } from '../../../shared/adapters/haproxy/runtime-api.js';
import { isCrossfadeBackend, renderServersFile } from '../../../shared/adapters/haproxy/server-state.js';
import { InternalError } from '../../../shared/domain/errors.js';

const row = (backend: string, server: string, address: string, port: number, weight: number, admin: ServerState['admin'] = 'ready'): ServerState => ({ backend, server, address, port, weight, admin });

/** The declarations, without the two comment lines on top. */
const body = (text: string): string[] => text.split('\n').filter((line) => !line.startsWith('#'));

describe('renderServersFile', () => {
  it('declares each backend with roundrobin and one server line per server, at its current weight', () => {
    const text = renderServersFile(['cf_checkout'], [row('cf_checkout', 'v1_10.0.0.7_8080', '10.0.0.7', 8080, 45), row('cf_checkout', 'v2_10.0.0.8_8080', '10.0.0.8', 8080, 5)]);

    expect(body(text)).toEqual(['', 'backend cf_checkout', '    balance roundrobin', '    server v1_10.0.0.7_8080 10.0.0.7:8080 weight 45', '    server v2_10.0.0.8_8080 10.0.0.8:8080 weight 5', '']);
  });

  it('marks servers in maintenance disabled; drained ones keep their weight and are left to the state file', () => {
    const text = renderServersFile(['cf_checkout'], [row('cf_checkout', 'v1_10.0.0.7_8080', '10.0.0.7', 8080, 0, 'maint'), row('cf_checkout', 'v1_10.0.0.9_8080', '10.0.0.9', 8080, 45, 'drain')]);

    expect(text).toContain('    server v1_10.0.0.7_8080 10.0.0.7:8080 weight 0 disabled\n');
    expect(text).toContain('    server v1_10.0.0.9_8080 10.0.0.9:8080 weight 45\n');
  });

  it('writes IPv6 addresses in brackets, the name as HAProxy reports it', () => {
    const text = renderServersFile(['cf_checkout'], [row('cf_checkout', 'v42_fd00::7_8080', 'fd00::7', 8080, 100)]);

    expect(text).toContain('    server v42_fd00::7_8080 [fd00::7]:8080 weight 100\n');
  });

  it('orders backends and servers by name, whatever order HAProxy listed them in', () => {
    const servers = [row('cf_payments', 'v1_10.0.0.2_80', '10.0.0.2', 80, 1), row('cf_checkout', 'v2_10.0.0.1_80', '10.0.0.1', 80, 2), row('cf_checkout', 'v10_10.0.0.1_80', '10.0.0.1', 80, 3), row('cf_checkout', 'V1_10.0.0.1_80', '10.0.0.1', 80, 4)];
    const text = renderServersFile(['cf_payments', 'cf_checkout'], servers);

    expect(body(text).filter((line) => line !== '')).toEqual([
      'backend cf_checkout',
      '    balance roundrobin',
      '    server V1_10.0.0.1_80 10.0.0.1:80 weight 4',
      '    server v10_10.0.0.1_80 10.0.0.1:80 weight 3',
      '    server v2_10.0.0.1_80 10.0.0.1:80 weight 2',
      'backend cf_payments',
      '    balance roundrobin',
      '    server v1_10.0.0.2_80 10.0.0.2:80 weight 1',
    ]);
    expect(renderServersFile(['cf_checkout', 'cf_payments', 'cf_checkout'], [...servers].reverse())).toBe(text);
  });

  it("declares a backend without servers (a service being added), and never one that is not crossfade's", () => {
    const text = renderServersFile(['app', 'cf_checkout', 'stats'], [row('app', 's1', '10.0.0.1', 80, 50)]);

    expect(body(text).filter((line) => line !== '')).toEqual(['backend cf_checkout', '    balance roundrobin']);
  });

  it('refuses a row HAProxy config could not hold, naming the server', () => {
    expect(() => renderServersFile(['cf_checkout'], [row('cf_checkout', 'web', 'app.internal', 80, 1)])).toThrow(InternalError);
    expect(() => renderServersFile(['cf_checkout'], [row('cf_checkout', 'web', 'app.internal', 80, 1)])).toThrow('server cf_checkout/web has address "app.internal", not an IP literal');
    expect(() => renderServersFile(['cf_checkout'], [row('cf_checkout', 'web', '10.0.0.1', 0, 1)])).toThrow('server cf_checkout/web has port 0');
    expect(() => renderServersFile(['cf_checkout'], [row('cf_checkout', 'web', '10.0.0.1', 80, 257)])).toThrow('server cf_checkout/web has weight 257');
    expect(() => renderServersFile(['cf_checkout'], [row('cf_checkout', 'web x', '10.0.0.1', 80, 1)])).toThrow('a name HAProxy config cannot hold');
  });
});

describe('isCrossfadeBackend', () => {
  it("recognises exactly the router's backend names", () => {
    expect(isCrossfadeBackend(haproxyBackendName('checkout'))).toBe(true);
    expect(isCrossfadeBackend('cf_')).toBe(false);
    expect(isCrossfadeBackend('app')).toBe(false);
    expect(isCrossfadeBackend('xcf_checkout')).toBe(false);
  });
});
