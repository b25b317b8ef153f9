import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { connectDb, type DbHandle } from '@ccg/db';
import { testDatabaseUrl } from '@ccg/testkit';

/**
 * A connection killed while the pool has it checked out. Only this test's own connection is
 * terminated (by its backend pid), so the shared server and other tests are untouched.
 */
describe('connectDb when a connection dies', () => {
  let h: DbHandle;
  beforeAll(async () => {
    h = await connectDb({ connectionString: testDatabaseUrl(), max: 2 });
  });
  afterAll(() => h.close());

  it('a checked-out connection terminated by the server neither crashes the process nor is reused', async () => {
    await h.db.connection().execute(async (conn) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn);
      const admin = new pg.Client({ connectionString: testDatabaseUrl() });
      await admin.connect();
      try {
        await admin.query('select pg_terminate_backend($1)', [rows[0].pid]);
      } finally {
        await admin.end();
      }
      // The client hears of it while checked out: pg emits 'error' on it (uncaught without a listener).
      await new Promise((r) => setTimeout(r, 300));
      await expect(sql`select 1`.execute(conn)).rejects.toThrow();
    });
    for (let i = 0; i < 3; i++) {
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(h.db);
      expect(rows).toEqual([{ one: 1 }]);
    }
  });
});
