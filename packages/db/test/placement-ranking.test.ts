import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { ClusterRepository, compileFilterNode, connectDb, filterRankedClusters, MetricsRepository, migrateToLatest, type ClusterFilter, type DbHandle } from '@ccg/db';
import { newTestSchemaName, sampleCluster, testDatabaseUrl } from '@ccg/testkit';
import * as migration0006 from '../src/migrations/0006_placement_ranking.js';

/** A node metrics document with one entry per GPU free memory given. */
const node = (id: string, ...freeMem: unknown[]) => ({ id, vcpu: { load15m: 1 }, gpus: freeMem.map((m, gpu_id) => ({ gpu_id, freeMem: m, totalMem: 16384 })) });
const leaf = (variable: string, operator: '==' | '<' | '>', value: string | number) => ({ variable, operator, value });

describe('placement ranking (migration 0006, filterRankedClusters)', () => {
  let h: DbHandle;
  let metrics: MetricsRepository;
  const schema = newTestSchemaName();
  const report = (id: string, nodes: unknown, load15m = 1) =>
    metrics.record({ cluster_id: id, cluster: { vcpu: { load15m } }, nodes: nodes as never, source: 'push', collected_at: new Date() }, 3);
  const fit = async (id: string) => (await sql<{ gpu_fit: string }>`select gpu_fit from cluster_metrics where cluster_id = ${id}`.execute(h.db)).rows[0]?.gpu_fit;
  const ranked = async (filter: ClusterFilter | null, limit = 100) => (await filterRankedClusters(h.db, filter, limit)).map((r) => r.id);

  beforeAll(async () => {
    h = await connectDb({ connectionString: testDatabaseUrl(), schema, max: 2 });
    await migrateToLatest(h.db);
    metrics = new MetricsRepository(h.db);
    const repo = new ClusterRepository(h.db);
    const vendors: Record<string, string> = { a: 'dma', b: 'dma', c: 'dma', d: 'other', e: 'dma', f: 'dma' };
    for (const [id, vendor] of Object.entries(vendors)) await repo.insert(id, { ...sampleCluster(id), clusterMetadata: { ...(sampleCluster(id).clusterMetadata as object), vendor } });
    await report('a', [node('n1', 1000, 1000), node('n2', 3000)]); // best node n2: 3000
    await report('b', [node('n1', 4000, '1000')]); // numeric strings count: 5000
    await report('c', [node('n1', 9000)], 50); // 9000, but busy
    await report('d', [node('n1', 20000)]); // 20000, other vendor
    await report('e', [node('n1', 0, -5, 'x', null), { id: 'n2', gpus: 'none' }, 'junk']); // nothing free: 0
    // f never reports
  });
  afterAll(async () => {
    await h?.close();
  });

  it('gpu_fit is the best single node free GPU memory, kept by Postgres on every write', async () => {
    expect(Number(await fit('a'))).toBe(3000);
    expect(Number(await fit('b'))).toBe(5000);
    expect(Number(await fit('e'))).toBe(0);
    await report('a', [node('n1', 6000, 1000)]);
    expect(Number(await fit('a'))).toBe(7000);
    await report('a', { not: 'an array' });
    expect(Number(await fit('a'))).toBe(0);
    await report('a', [node('n1', 1000, 1000), node('n2', 3000)]);
    expect(Number(await fit('a'))).toBe(3000);
  });

  it('ranks matching clusters best first, then by id; unreported clusters last, only without a metrics condition', async () => {
    expect(await ranked(null)).toEqual(['d', 'c', 'b', 'a', 'e', 'f']);
    expect(await ranked({ clusterQuery: leaf('clusterMetadata.vendor', '==', 'dma') })).toEqual(['c', 'b', 'a', 'e', 'f']);
    const sample: ClusterFilter = { clusterQuery: leaf('clusterMetadata.vendor', '==', 'dma'), clusterMetricsQuery: leaf('cluster.vcpu.load15m', '<', '10') };
    expect(await ranked(sample)).toEqual(['b', 'a', 'e']);
    expect(await ranked({ clusterQuery: leaf('clusterMetadata.vendor', '==', 'nobody') })).toEqual([]);
  });

  it('stops at the limit, the unreported ones filling only what the ranked ones leave', async () => {
    expect(await ranked(null, 2)).toEqual(['d', 'c']);
    expect(await ranked(null, 5)).toEqual(['d', 'c', 'b', 'a', 'e']);
    expect(await ranked({ clusterQuery: leaf('clusterMetadata.vendor', '==', 'dma') }, 3)).toEqual(['c', 'b', 'a']);
  });

  it('cluster documents of a few KB are stored uncompressed (no decompression per filter condition)', async () => {
    const big = { ...sampleCluster('big'), padding: 'x'.repeat(3000) };
    await new ClusterRepository(h.db).insert('big', big);
    const r = await sql<{ compression: string | null; size: number }>`select pg_column_compression(doc) as compression, pg_column_size(doc) as size from clusters where id = 'big'`.execute(h.db);
    expect(r.rows[0].size).toBeGreaterThan(3000);
    expect(r.rows[0].compression).toBeNull();
    await sql`delete from clusters where id = 'big'`.execute(h.db);
  });

  it('the migration rewrites existing compressed documents uncompressed, and goes down and up again', async () => {
    await migration0006.down(h.db as never);
    const big = { ...sampleCluster('old'), padding: 'x'.repeat(3000) };
    await new ClusterRepository(h.db).insert('old', big);
    const compression = async () => (await sql<{ c: string | null }>`select pg_column_compression(doc) as c from clusters where id = 'old'`.execute(h.db)).rows[0].c;
    expect(await compression()).toBe('pglz'); // the default 2 KB target compresses it
    await migration0006.up(h.db as never);
    expect(await compression()).toBeNull();
    expect((await new ClusterRepository(h.db).get('old')).doc).toEqual(big);
    expect(Number(await fit('b'))).toBe(5000); // gpu_fit recomputed for the stored metrics
    await sql`delete from clusters where id = 'old'`.execute(h.db);
  });

  it('at scale, walks the ranking index and stops after the limit instead of filtering every cluster', async () => {
    await sql`insert into clusters (id, doc) select 'z' || lpad(i::text, 5, '0'), ${JSON.stringify(sampleCluster('z'))}::jsonb || jsonb_build_object('gpus', jsonb_build_object('count', i % 10))
      from generate_series(1, 5000) i`.execute(h.db);
    await sql`insert into cluster_metrics (cluster_id, cluster, nodes, source, collected_at)
      select 'z' || lpad(i::text, 5, '0'), jsonb_build_object('vcpu', jsonb_build_object('load15m', i % 20)),
        jsonb_build_array(jsonb_build_object('id', 'n1', 'gpus', jsonb_build_array(jsonb_build_object('freeMem', (i * 7919) % 16384)))), 'push', now()
      from generate_series(1, 5000) i`.execute(h.db);
    await sql`analyze clusters`.execute(h.db);
    await sql`analyze cluster_metrics`.execute(h.db);
    const filter: ClusterFilter = { clusterQuery: leaf('gpus.count', '>', '4'), clusterMetricsQuery: leaf('cluster.vcpu.load15m', '<', '10') };
    const got = await filterRankedClusters(h.db, filter, 20);
    // The same answer computed the slow way: every match, sorted here.
    const all = await sql<{ id: string; fit: string }>`select c.id, m.gpu_fit as fit from clusters c join cluster_metrics m on m.cluster_id = c.id
      where (c.doc #>> '{gpus,count}')::numeric > 4 and (m.cluster #>> '{vcpu,load15m}')::numeric < 10`.execute(h.db);
    const expected = all.rows.sort((x, y) => Number(y.fit) - Number(x.fit) || (x.id < y.id ? -1 : 1)).slice(0, 20).map((r) => r.id);
    expect(got.map((r) => r.id)).toEqual(expected);
    // The plan: an index scan in ranking order under the limit (no sort of every match).
    const where = sql`${compileFilterNode('cluster', filter.clusterQuery!)} and ${compileFilterNode('metrics', filter.clusterMetricsQuery!)}`;
    const plan = await sql<{ 'QUERY PLAN': string }>`explain select c.* from clusters c join cluster_metrics m on m.cluster_id = c.id
      where ${where} order by m.gpu_fit desc, m.cluster_id limit 20`.execute(h.db);
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index Scan using cluster_metrics_gpu_fit_idx/);
    expect(text).not.toMatch(/Sort/);
  });
});
