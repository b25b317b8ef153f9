import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The latest metrics of each cluster (pushed by its metrics writer or pulled from its metrics service).
  await db.schema
    .createTable('cluster_metrics')
    .addColumn('cluster_id', 'text', (c) => c.primaryKey())
    .addColumn('cluster', 'jsonb', (c) => c.notNull())
    .addColumn('nodes', 'jsonb', (c) => c.notNull())
    .addColumn('blocks', 'jsonb')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('collected_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('cluster_metrics_history')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('cluster_id', 'text', (c) => c.notNull())
    .addColumn('cluster', 'jsonb', (c) => c.notNull())
    .addColumn('nodes', 'jsonb', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('collected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('cluster_metrics_history_cluster_idx').on('cluster_metrics_history').columns(['cluster_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('cluster_metrics_history').ifExists().execute();
  await db.schema.dropTable('cluster_metrics').ifExists().execute();
}
