import type pg from 'pg';
import { pgCode } from './errors.js';

/**
 * The pool Kysely draws from, with one difference from pg's: a connection that turns out to be
 * dead when its checkout runs its first statement is replaced by a fresh one and the statement
 * runs again. A pooled connection can die while idle (a Postgres restart or failover,
 * pg_terminate_backend, a proxy's idle timeout) before the pool has heard of it; without this,
 * the request that drew it would fail although the database is fine.
 *
 * Only the first statement of a checkout is retried: later ones may belong to a transaction that
 * died with the connection. And only when it cannot have taken effect: see `diedBeforeRunning`.
 */
export class FreshConnectionPool {
  constructor(private readonly pool: pg.Pool) {}

  async connect(): Promise<FirstUseCheckedClient> {
    return new FirstUseCheckedClient(this.pool, await this.pool.connect());
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

class FirstUseCheckedClient {
  private used = false;
  private released = false;

  constructor(
    private readonly pool: pg.Pool,
    private client: pg.PoolClient,
  ) {}

  // Kysely calls query(text, values), or query(cursor) when streaming (returns the cursor; not retried).
  query(textOrCursor: unknown, values?: unknown[]): unknown {
    const first = !this.used;
    this.used = true;
    if (typeof textOrCursor !== 'string') return this.client.query(textOrCursor as pg.Submittable);
    return first ? this.firstQuery(textOrCursor, values) : this.client.query(textOrCursor, values);
  }

  private async firstQuery(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.client.query(text, values);
    } catch (err) {
      if (!diedBeforeRunning(err, text)) throw err;
      this.client.release(true);
      this.released = true; // until the fresh connection is ours (connecting can fail too)
      this.client = await this.pool.connect();
      this.released = false;
      return this.client.query(text, values);
    }
  }

  release(destroy?: boolean): void {
    if (!this.released) this.client.release(destroy);
  }
}

/**
 * Did the statement fail because its connection was dead, without having taken effect?
 * - pg refused to send it (the client had already seen its connection fail);
 * - the server terminated the session (SQLSTATE class 57P: admin or crash shutdown, cannot
 *   connect now): the statement was not committed;
 * - the connection dropped with no word from the server: the statement may have run, so only
 *   a read or a BEGIN is run again.
 */
function diedBeforeRunning(err: unknown, text: string): boolean {
  if (pgCode(err)?.startsWith('57P')) return true;
  const message = err instanceof Error ? err.message : '';
  if (message.endsWith('is not queryable')) return true;
  const dropped = message === 'Connection terminated unexpectedly' || ['ECONNRESET', 'EPIPE'].includes(pgCode(err) ?? '');
  return dropped && /^\s*(select|begin)\b/i.test(text);
}
