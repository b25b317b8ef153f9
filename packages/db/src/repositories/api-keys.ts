import { sql, type Kysely, type Transaction } from 'kysely';
import { ConflictError, NotFoundError, type Page } from '@ccg/contracts';
import type { ApiKeyRow, Database } from '../schema.js';
import { decodeCursor, toPage, type PageRequest } from '../pagination.js';
import { pgCode, UNIQUE_VIOLATION } from '../errors.js';

/**
 * LISTEN/NOTIFY channel of key changes: the payload is `revoke:<id>` or `create:<id>`. It is sent
 * inside the writing transaction, so replicas hear of a change exactly when it commits. Each
 * replica answers a revocation with `ack:<id>:<replica>` once it has dropped the key.
 */
export const API_KEYS_CHANNEL = 'ccg_api_keys';

/** application_name of every replica's key-feed connection: `ccg-keys:<replica id>`. */
export const KEY_FEED_APP_PREFIX = 'ccg-keys:';

/** Advisory lock serialising bootstrap-key changes across replicas starting at once. */
const BOOTSTRAP_LOCK = 0x6363_6b01;

export interface NewApiKey {
  id: string;
  name: string;
  role: string;
  token_hash: string;
  token_prefix: string;
  source?: string;
  created_by?: string | null;
}

export interface BootstrapResult {
  row: ApiKeyRow;
  /** False when a key with this token already existed (possibly revoked: it stays revoked). */
  created: boolean;
  /** Earlier keys of the same source revoked because the configured token changed. */
  revoked: string[];
}

export class ApiKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(key: NewApiKey): Promise<ApiKeyRow> {
    try {
      return await this.db.transaction().execute((tx) => this.insertIn(tx, key));
    } catch (err) {
      if (pgCode(err) === UNIQUE_VIOLATION) throw new ConflictError(`an active API key named ${key.name} already exists`, { field: 'name', name: key.name });
      throw err;
    }
  }

  private async insertIn(tx: Transaction<Database>, key: NewApiKey): Promise<ApiKeyRow> {
    const row = await tx
      .insertInto('api_keys')
      .values({ ...key, source: key.source ?? 'api', created_by: key.created_by ?? null })
      .returningAll()
      .executeTakeFirstOrThrow();
    await sql`select pg_notify(${API_KEYS_CHANNEL}, ${`create:${row.id}`})`.execute(tx);
    return row;
  }

  /** The active key with this token hash, if any. */
  async findActiveByHash(tokenHash: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
  }

  /** Every active key: what a replica's cache holds. */
  async allActive(): Promise<ApiKeyRow[]> {
    return this.db.selectFrom('api_keys').selectAll().where('revoked_at', 'is', null).execute();
  }

  /** Replica ids of every key-feed connection open on this database (every listening replica). */
  async keyFeedReplicas(): Promise<string[]> {
    const { rows } = await sql<{ application_name: string }>`
      select application_name from pg_stat_activity
      where datname = current_database() and starts_with(application_name, ${KEY_FEED_APP_PREFIX})`.execute(this.db);
    return rows.map((r) => r.application_name.slice(KEY_FEED_APP_PREFIX.length));
  }

  async get(id: string): Promise<ApiKeyRow> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError(`API key ${id} not found`, { id });
    return row;
  }

  /** Oldest first; revoked keys only when asked. The cursor is the last key's id. */
  async list(page: PageRequest, includeRevoked: boolean): Promise<Page<ApiKeyRow>> {
    const after = decodeCursor(page.cursor, 1);
    let q = this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').limit(page.limit + 1);
    if (!includeRevoked) q = q.where('revoked_at', 'is', null);
    // Compared in Postgres: a JS Date would cut created_at's microseconds and repeat rows.
    if (after) q = q.where(sql<boolean>`(created_at, id) > (select k.created_at, k.id from api_keys k where k.id = ${String(after[0])})`);
    return toPage(await q.execute(), page.limit, (r) => [r.id]);
  }

  /** Revokes a key (idempotent: an already revoked key is returned as it is, `revokedNow` false). */
  async revoke(id: string, actor: string | null): Promise<{ row: ApiKeyRow; revokedNow: boolean }> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .updateTable('api_keys')
        .set({ revoked_at: new Date(), revoked_by: actor })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (row) {
        await sql`select pg_notify(${API_KEYS_CHANNEL}, ${`revoke:${id}`})`.execute(tx);
        return { row, revokedNow: true };
      }
      const existing = await tx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      if (!existing) throw new NotFoundError(`API key ${id} not found`, { id });
      return { row: existing, revokedNow: false };
    });
  }

  /**
   * Makes sure the key of a configured token exists (GATEWAY_ADMIN_TOKEN, the zero-setup token).
   * Idempotent across restarts and concurrent replicas. A different token for the same source
   * replaces the previous one (rotation): the old key is revoked. A token whose key was revoked
   * through the API stays revoked.
   */
  async ensureBootstrap(key: NewApiKey & { source: string }): Promise<BootstrapResult> {
    return this.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(tx);
      const existing = await tx.selectFrom('api_keys').selectAll().where('token_hash', '=', key.token_hash).executeTakeFirst();
      if (existing) return { row: existing, created: false, revoked: [] };
      const old = await tx
        .updateTable('api_keys')
        .set({ revoked_at: new Date(), revoked_by: `rotated:${key.source}` })
        .where('source', '=', key.source)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute();
      for (const { id } of old) await sql`select pg_notify(${API_KEYS_CHANNEL}, ${`revoke:${id}`})`.execute(tx);
      // The bootstrap key's name may be taken by an API-made key: then it gets a suffix.
      const taken = await tx.selectFrom('api_keys').select('id').where('name', '=', key.name).where('revoked_at', 'is', null).executeTakeFirst();
      const row = await this.insertIn(tx, taken ? { ...key, name: `${key.name}-${key.id}` } : key);
      return { row, created: true, revoked: old.map((o) => o.id) };
    });
  }
}
