import { type Kysely, sql } from 'kysely';

/** At most one active (pending or running) task per exclusive key, e.g. one allocation per block. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tasks').addColumn('exclusive_key', 'text').execute();
  await sql`create unique index tasks_exclusive_active_uq on tasks (exclusive_key) where exclusive_key is not null and task_status in ('pending', 'in_progress')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists tasks_exclusive_active_uq`.execute(db);
  await db.schema.alterTable('tasks').dropColumn('exclusive_key').execute();
}
