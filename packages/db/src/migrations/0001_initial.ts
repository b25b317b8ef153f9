import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('clusters')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('doc', 'jsonb', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('blocks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('doc', 'jsonb', (c) => c.notNull())
    .addColumn('cluster_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('blocks_cluster_id_idx').on('blocks').columns(['cluster_id', 'id']).execute();

  await db.schema
    .createTable('tasks')
    .addColumn('task_id', 'uuid', (c) => c.primaryKey())
    .addColumn('task_type', 'text', (c) => c.notNull())
    .addColumn('task_data', 'jsonb', (c) => c.notNull())
    .addColumn('task_status', 'text', (c) => c.notNull())
    .addColumn('task_status_data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('cluster_id', 'text')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retries', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cancel_requested', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('request_hash', 'text')
    .addColumn('actor', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('tasks_created_idx').on('tasks').columns(['created_at', 'task_id']).execute();
  await db.schema.createIndex('tasks_status_idx').on('tasks').columns(['task_status', 'updated_at']).execute();
  await db.schema.createIndex('tasks_type_idx').on('tasks').columns(['task_type', 'created_at']).execute();
  await db.schema.createIndex('tasks_cluster_idx').on('tasks').columns(['cluster_id', 'created_at']).execute();

  await db.schema
    .createTable('task_steps')
    .addColumn('task_id', 'uuid', (c) => c.notNull().references('tasks.task_id').onDelete('cascade'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('output', 'jsonb')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addPrimaryKeyConstraint('task_steps_pk', ['task_id', 'idx'])
    .addUniqueConstraint('task_steps_name_uq', ['task_id', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['task_steps', 'tasks', 'blocks', 'clusters']) await db.schema.dropTable(t).ifExists().execute();
}
