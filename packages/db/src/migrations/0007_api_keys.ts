import { type Kysely, sql } from 'kysely';

/**
 * Bearer API keys (docs/AUTH.md). Only the SHA-256 of a token is stored; `token_prefix` is a
 * few leading characters for people to tell keys apart. `source` says who made the key: the
 * API, GATEWAY_ADMIN_TOKEN ('config') or the zero-setup launcher ('zero-setup').
 * Clusters record who created and last changed them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'operator', 'parser', 'reporter', 'viewer')`))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_prefix', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('api'))
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by', 'text')
    .execute();
  // A name identifies a key in task and decision logs: unique among the keys still active.
  await sql`create unique index api_keys_active_name_uq on api_keys (name) where revoked_at is null`.execute(db);

  await db.schema.alterTable('clusters').addColumn('created_by', 'text').addColumn('updated_by', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clusters').dropColumn('created_by').dropColumn('updated_by').execute();
  await db.schema.dropTable('api_keys').execute();
}
