import { Kysely, PostgresDialect, sql, type PostgresPool } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { FreshConnectionPool } from './fresh-connection-pool.js';

// Return int8 (counts) as numbers and keep timestamps as Date.
pg.types.setTypeParser(20, (v) => Number(v));

export interface DbHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface ConnectOptions {
  connectionString: string;
  /** Postgres schema to use (tests isolate themselves this way); created if missing. */
  schema?: string;
  max?: number;
}

export function poolConfig(opts: ConnectOptions): pg.PoolConfig {
  return {
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
  };
}

export async function connectDb(opts: ConnectOptions): Promise<DbHandle> {
  if (opts.schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema)) throw new Error(`bad schema name ${opts.schema}`);
  if (opts.schema) {
    const c = new pg.Client({ connectionString: opts.connectionString });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    } finally {
      await c.end();
    }
  }
  const pool = new pg.Pool(poolConfig(opts));
  // A dropped idle connection (e.g. pg_terminate_backend) must not crash the process;
  // the pool discards it and the next query gets a fresh one.
  pool.on('error', () => undefined);
  // A connection that drops while checked out (mid-query) emits 'error' on the client, and
  // pg-pool only listens while it is idle: without a listener of our own that event is an
  // uncaught exception. The query itself fails, and the client is not reused on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new FreshConnectionPool(pool) as unknown as PostgresPool }) });
  return {
    db,
    pool,
    close: () => db.destroy(),
  };
}

/**
 * Runs `fn` only if this process gets the session advisory lock `key` (one replica at a time);
 * returns undefined when another holder has it.
 */
export async function withAdvisoryLock<T>(db: Kysely<Database>, key: number, fn: () => Promise<T>): Promise<T | undefined> {
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${key}) as locked`.execute(conn);
    if (!rows[0]?.locked) return undefined;
    try {
      return await fn();
    } finally {
      await sql`select pg_advisory_unlock(${key})`.execute(conn);
    }
  });
}

/** True when the database answers a trivial query within `timeoutMs`. */
export async function pingDatabase(db: Kysely<Database>, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(db),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
