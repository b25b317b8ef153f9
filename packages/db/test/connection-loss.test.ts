import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { connectDb, type DbHandle } from '@ccg/db';
import { newTestSchemaName, testDatabaseUrl } from '@ccg/testkit';

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

  /** Terminates backend `pid` and waits until it has exited. */
  const terminate = async (pid: number) => {
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      await admin.query('select pg_terminate_backend($1, 5000)', [pid]);
    } finally {
      await admin.end();
    }
  };

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

  describe('a pooled connection that died before its checkout ran anything', () => {
    let one: DbHandle;
    let pid: number;
    beforeAll(async () => {
      // One connection, so every checkout draws the same one until it is replaced.
      one = await connectDb({ connectionString: testDatabaseUrl(), schema: newTestSchemaName(), max: 1 });
      await sql`create table marks (id int primary key)`.execute(one.db);
    });
    afterAll(() => one.close());

    beforeEach(async () => {
      pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(one.db)).rows[0].pid;
    });

    it.each([
      ['the client has already seen it die', 300],
      ['the statement meets the dying connection', 0],
    ])('a read is run again on a fresh connection (%s)', async (_, settleMs) => {
      const rows = await one.db.connection().execute(async (conn) => {
        await terminate(pid);
        await new Promise((r) => setTimeout(r, settleMs));
        return (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn)).rows;
      });
      expect(rows[0].pid).not.toBe(pid);
    });

    it('a write the dead connection could not send is run once on a fresh connection', async () => {
      await one.db.connection().execute(async (conn) => {
        await terminate(pid);
        await new Promise((r) => setTimeout(r, 300));
        await sql`insert into marks (id) values (1)`.execute(conn);
      });
      expect((await sql<{ n: number }>`select count(*)::int as n from marks where id = 1`.execute(one.db)).rows[0].n).toBe(1);
    });

    it('a transaction whose connection died before BEGIN runs whole on a fresh connection', async () => {
      await one.db.connection().execute(async (conn) => {
        await terminate(pid);
        await new Promise((r) => setTimeout(r, 300));
        await conn.transaction().execute((trx) => sql`insert into marks (id) values (2)`.execute(trx));
      });
      expect((await sql<{ n: number }>`select count(*)::int as n from marks where id = 2`.execute(one.db)).rows[0].n).toBe(1);
    });

    it('a later statement of the same checkout is not run again (it may belong to a transaction that died)', async () => {
      await one.db.connection().execute(async (conn) => {
        await sql`select 1`.execute(conn);
        await terminate(pid);
        await new Promise((r) => setTimeout(r, 300));
        await expect(sql`insert into marks (id) values (3)`.execute(conn)).rejects.toThrow(/not queryable|terminat/);
      });
      expect((await sql<{ n: number }>`select count(*)::int as n from marks where id = 3`.execute(one.db)).rows[0].n).toBe(0);
    });
  });
});
