import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '@ccg/config';
import type { AuthSystem } from './system.js';
import { generateToken } from './tokens.js';

export const ZERO_SETUP_ADMIN_NAME = 'zero-setup-admin';

/** Where the zero-setup mode keeps its admin token. */
export const adminTokenFile = (config: Pick<Config, 'dataDir'>): string => path.join(config.dataDir, 'secrets', 'admin-token');

async function readToken(file: string): Promise<string | undefined> {
  try {
    const token = (await readFile(file, 'utf8')).trim();
    return token.length >= 24 ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `npm start` with no GATEWAY_ADMIN_TOKEN (and auth on): the first start makes an admin token,
 * keeps it in DATA_DIR/secrets/admin-token (0600) and prints it once; later starts make sure its
 * key exists (a fresh database, say) and only say where the file is. Deleting the file and
 * restarting replaces the token (the old key is revoked). The token never goes to the log.
 * Returns the token file when this mode applies.
 */
export async function ensureZeroSetupAdminToken(config: Config, auth: AuthSystem, log: Logger, print: (text: string) => void = (t) => process.stdout.write(t)): Promise<string | undefined> {
  if (config.auth.disabled || config.auth.adminToken) return undefined;
  const file = adminTokenFile(config);
  const existing = await readToken(file);
  if (existing) {
    const { row, created } = await auth.keys.ensureAdminToken(existing, 'zero-setup', ZERO_SETUP_ADMIN_NAME);
    if (row.revoked_at) log.warn({ file }, 'the admin token in this file was revoked; delete the file and restart for a new one');
    else log.info({ file, key_id: row.id, registered: created }, 'admin API token: see the file');
    return file;
  }
  const token = generateToken();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, token + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  const { row } = await auth.keys.ensureAdminToken(token, 'zero-setup', ZERO_SETUP_ADMIN_NAME);
  log.info({ file, key_id: row.id }, 'generated an admin API token (printed once on stdout, kept in the file)');
  const rule = '='.repeat(78);
  print(
    [
      '',
      rule,
      '  Admin API token (shown only now; kept in ' + file + '):',
      '',
      '    ' + token,
      '',
      '  Send it as a bearer token, e.g.',
      `    export CCG_TOKEN=$(cat ${file})`,
      `    curl -H "Authorization: Bearer $CCG_TOKEN" http://localhost:${config.port}/clusters`,
      '  Make more keys with POST /auth/keys {name, role}; set AUTH_DISABLED=true to turn auth off.',
      rule,
      '',
      '',
    ].join('\n'),
  );
  return file;
}
