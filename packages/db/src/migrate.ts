import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_policies.js';
import * as m0003 from './migrations/0003_metrics.js';
import * as m0004 from './migrations/0004_placement_indexes.js';
import * as m0005 from './migrations/0005_task_exclusive_key.js';
import * as m0006 from './migrations/0006_placement_ranking.js';
import * as m0007 from './migrations/0007_api_keys.js';
import type { Database } from './schema.js';

/** Migrations are compiled in (no directory scanning), so the built package is self-contained. */
const provider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { '0001_initial': m0001, '0002_policies': m0002, '0003_metrics': m0003, '0004_placement_indexes': m0004, '0005_task_exclusive_key': m0005, '0006_placement_ranking': m0006, '0007_api_keys': m0007 };
  },
};

/** Brings the schema up to date; safe to run from several processes at once (Kysely takes a lock). */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  // Pin the migration tables to the connection's schema: Kysely otherwise finds another
  // schema's tables in the same database and assumes they are its own.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  if (await upToDate(db, rows[0].schema)) return [];
  // Unordered: migrations are developed in parallel, so a database may have run 0007 before 0006
  // existed; each migration touches its own tables, so the late one simply runs next.
  const migrator = new Migrator({ db, provider, migrationTableSchema: rows[0].schema, allowUnorderedMigrations: true });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // Kysely looks for its tables by listing every schema's tables: another schema dropped in the
    // meantime (another test run, a benchmark sharing the database) fails that listing. Retry.
    if (attempt < 5 && droppedMeanwhile(error, rows[0].schema)) {
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      continue;
    }
    throw error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Every migration already recorded in this schema? Then nothing runs and Kysely's Migrator (which
 * lists the tables of every schema in the database, seconds when a shared database holds hundreds
 * of test schemas) is not needed: every process start after the first takes this path.
 */
async function upToDate(db: Kysely<Database>, schema: string): Promise<boolean> {
  const { rows: exists } = await sql<{ ok: boolean }>`select to_regclass(${`${quoteIdent(schema)}.kysely_migration`}) is not null as ok`.execute(db);
  if (!exists[0].ok) return false;
  const { rows } = await sql<{ name: string }>`select name from ${sql.id(schema, 'kysely_migration')}`.execute(db);
  const applied = new Set(rows.map((r) => r.name));
  return Object.keys(await provider.getMigrations()).every((name) => applied.has(name));
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * What a catalog listing hits when another schema is dropped while it runs: `schema "x" does not
 * exist` (3F000) about a schema other than ours, a relation or column gone mid-listing (42P01,
 * 42703: seen as `column "gpu_fit" of relation "cluster_metrics" does not exist`), or a catalog
 * cache miss (XX000 `cache lookup failed`).
 */
function droppedMeanwhile(error: unknown, ours: string): boolean {
  const e = error as { code?: string; message?: string };
  const message = e.message ?? '';
  if (e.code === '3F000') return !message.includes(`"${ours}"`);
  return e.code === '42P01' || e.code === '42703' || (e.code === 'XX000' && message.includes('cache lookup failed'));
}
