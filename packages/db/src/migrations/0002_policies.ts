import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('policies')
    .addColumn('uri', 'text', (c) => c.primaryKey())
    .addColumn('runtime', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('code_sha256', 'text', (c) => c.notNull())
    .addColumn('packaging', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('parameters', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('actor', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('policy_context')
    .addColumn('uri', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('policy_context_pk', ['uri', 'key'])
    .execute();

  // Stored overrides of the pre-check map: scope '' is global, otherwise a cluster id.
  // entry NULL records an explicit removal ("" in the update API).
  await db.schema
    .createTable('precheck_map')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('entry', 'jsonb')
    .addColumn('actor', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('precheck_map_pk', ['scope', 'action'])
    .execute();

  await db.schema
    .createTable('precheck_map_history')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('changes', 'jsonb', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('request_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('precheck_decisions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('rule_uri', 'text', (c) => c.notNull())
    .addColumn('code_sha256', 'text')
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'jsonb')
    .addColumn('input_changed', 'boolean', (c) => c.notNull())
    .addColumn('input_diff', 'jsonb')
    .addColumn('latency_ms', 'real', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('request_id', 'text')
    .addColumn('task_id', 'text')
    .addColumn('cluster_id', 'text')
    .execute();
  await db.schema.createIndex('precheck_decisions_created_idx').on('precheck_decisions').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('precheck_decisions_action_idx').on('precheck_decisions').columns(['action', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['precheck_decisions', 'precheck_map_history', 'precheck_map', 'policy_context', 'policies']) await db.schema.dropTable(t).ifExists().execute();
}
