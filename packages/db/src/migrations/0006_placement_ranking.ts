import { type Kysely, sql } from 'kysely';
import { jsonbNumeric } from '../filter-sql.js';

/**
 * Placement candidates ranked in the database (docs/ARCHITECTURE.md "Placement filters"):
 *
 * - `cluster_metrics.gpu_fit`: the free GPU memory of the cluster's best single node (the sum of
 *   `freeMem` over the node's `gpus` list, positive values only), a stored generated column, so
 *   Postgres maintains it on every metrics write, whoever writes. Indexed with the cluster id, so
 *   "the best K clusters matching a filter" is an index scan that stops after K matches instead
 *   of evaluating the filter on every cluster.
 * - Cluster and metrics documents stay uncompressed inline up to a page (toast_tuple_target):
 *   below the default 2 KB target a ~2.4 KB cluster document was pglz-compressed, and every
 *   filter condition decompressed it again (measured: 3x the cost of the condition itself).
 *   Larger rows still compress, largest column first (the node list before the cluster summary).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const mem = jsonbNumeric(sql`gpu -> 'freeMem'`);
  await sql`create function placement_gpu_fit(nodes jsonb) returns numeric language sql immutable parallel safe as $$
    select coalesce(max(node_free), 0) from (
      select (select sum(f.mem) from (select ${mem} as mem
                from jsonb_array_elements(case when jsonb_typeof(n -> 'gpus') = 'array' then n -> 'gpus' else '[]'::jsonb end) as g(gpu)) f
              where f.mem > 0) as node_free
      from jsonb_array_elements(case when jsonb_typeof(nodes) = 'array' then nodes else '[]'::jsonb end) as nd(n)) s
  $$`.execute(db);
  await sql`alter table cluster_metrics add column gpu_fit numeric not null generated always as (placement_gpu_fit(nodes)) stored`.execute(db);
  await sql`create index cluster_metrics_gpu_fit_idx on cluster_metrics (gpu_fit desc, cluster_id)`.execute(db);
  for (const [table, column] of [['clusters', 'doc'], ['cluster_metrics', 'cluster']] as const) {
    await sql`alter table ${sql.raw(table)} set (toast_tuple_target = 8160)`.execute(db);
    // Rewrites existing rows uncompressed (a new value), without firing row triggers. Skipped on
    // an empty table (a new install): a rewrite creates and syncs new files, slow on a busy disk.
    const { rows } = await sql<{ any: boolean }>`select exists (select 1 from ${sql.raw(table)}) as any`.execute(db);
    if (rows[0].any) await sql`alter table ${sql.raw(table)} alter column ${sql.raw(column)} type jsonb using ${sql.raw(column)} || '{}'::jsonb`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists cluster_metrics_gpu_fit_idx`.execute(db);
  await sql`alter table cluster_metrics drop column if exists gpu_fit`.execute(db);
  await sql`drop function if exists placement_gpu_fit(jsonb)`.execute(db);
  await sql`alter table clusters reset (toast_tuple_target)`.execute(db);
  await sql`alter table cluster_metrics reset (toast_tuple_target)`.execute(db);
}
