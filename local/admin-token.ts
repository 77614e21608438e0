/**
 * The local stack's admin token (API.md): CROSSFADE_ADMIN_TOKEN when set; otherwise the one kept in
 * <data dir>/admin-token (readable by its owner only), generated on the first start.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
  if (existsSync(path)) return { token: readFileSync(path, 'utf8').trim(), source: 'file', path };
  const token = generateToken();
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return { token, source: 'generated', path };
}
