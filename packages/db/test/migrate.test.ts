import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { connectDb, migrateToLatest, type DbHandle } from '@ccg/db';
import { newTestSchemaName, testDatabaseUrl } from '@ccg/testkit';
import * as migration0006 from '../src/migrations/0006_placement_ranking.js';

describe('migrateToLatest', () => {
  let h: DbHandle;
  beforeAll(async () => {
    h = await connectDb({ connectionString: testDatabaseUrl(), schema: newTestSchemaName(), max: 2 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('runs every migration once; an up-to-date schema runs none', async () => {
    const first = await migrateToLatest(h.db);
    expect(first).toContain('0001_initial');
    expect(first).toContain('0006_placement_ranking');
    expect(await migrateToLatest(h.db)).toEqual([]);
  });

  it('a migration missing from the schema still runs (the up-to-date shortcut does not hide it)', async () => {
    await migration0006.down(h.db as never);
    await sql`delete from kysely_migration where name = '0006_placement_ranking'`.execute(h.db);
    expect(await migrateToLatest(h.db)).toEqual(['0006_placement_ranking']);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from information_schema.columns where table_schema = current_schema() and table_name = 'cluster_metrics' and column_name = 'gpu_fit'`.execute(h.db);
    expect(rows[0].n).toBe(1);
    expect(await migrateToLatest(h.db)).toEqual([]);
  });
});
