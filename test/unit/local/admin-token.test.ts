/** The local stack's admin token file: made owner-only, and refused when others may open it. */
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAdminToken } from '../../../local/admin-token.js';

const TOKEN = 'cf_admin_token_file_test_0123456789';

function dataDirWithToken(mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-token-'));
  writeFileSync(join(dir, 'admin-token'), TOKEN + '\n');
  chmodSync(join(dir, 'admin-token'), mode);
  return dir;
}

describe.skipIf(process.platform === 'win32')('resolveAdminToken', () => {
  it('generates the token into a file only its owner may read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossfade-token-'));
    const resolved = resolveAdminToken({}, dir);
    expect(resolved).toMatchObject({ source: 'generated', path: join(dir, 'admin-token') });
    expect(statSync(resolved.path).mode & 0o777).toBe(0o600);
    expect(resolveAdminToken({}, dir)).toEqual({ ...resolved, source: 'file' });
  });

  it.each([0o600, 0o400])('reads a file of mode %o', (mode) => {
    expect(resolveAdminToken({}, dataDirWithToken(mode))).toMatchObject({ token: TOKEN, source: 'file' });
  });

  it.each([
    [0o640, '0640'],
    [0o644, '0644'],
    [0o604, '0604'],
    [0o620, '0620'],
  ])('refuses a file of mode %o, saying how to fix it', (mode, shown) => {
    const dir = dataDirWithToken(mode);
    const path = join(dir, 'admin-token');
    expect(() => resolveAdminToken({}, dir)).toThrow(`${path} is open to other users (mode ${shown}) and holds the admin token: run chmod 600 ${path}`);
  });

  it('CROSSFADE_ADMIN_TOKEN wins, whatever the file', () => {
    expect(resolveAdminToken({ CROSSFADE_ADMIN_TOKEN: TOKEN }, dataDirWithToken(0o644))).toMatchObject({ token: TOKEN, source: 'environment' });
  });
});
