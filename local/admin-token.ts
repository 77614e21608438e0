/**
 * The local stack's admin token (docs/api.md): CROSSFADE_ADMIN_TOKEN when set; otherwise the one kept in
 * <data dir>/admin-token (readable by its owner only), generated on the first start. A token file
 * other users may read or write is refused: whoever can read it is admin.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToken } from '../shared/http/auth.js';

export type AdminTokenSource = 'environment' | 'file' | 'generated';

export function resolveAdminToken(env: Record<string, string | undefined>, dataDir: string): { token: string; source: AdminTokenSource; path: string } {
  const path = join(dataDir, 'admin-token');
  const fromEnv = env['CROSSFADE_ADMIN_TOKEN'];
  if (fromEnv) {
    if (fromEnv.length < 16) throw new Error('CROSSFADE_ADMIN_TOKEN must be at least 16 characters');
    return { token: fromEnv, source: 'environment', path };
  }
  if (existsSync(path)) {
    checkOwnerOnly(path);
    return { token: readFileSync(path, 'utf8').trim(), source: 'file', path };
  }
  const token = generateToken();
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return { token, source: 'generated', path };
}

/** Windows has no such mode bits (its ACLs are another matter), so only POSIX systems are checked. */
function checkOwnerOnly(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${path} is open to other users (mode ${mode.toString(8).padStart(4, '0')}) and holds the admin token: run chmod 600 ${path}`);
  }
}
