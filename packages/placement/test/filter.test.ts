import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClusterRepository, connectDb, explainExclusions, MetricsRepository, migrateToLatest, type DbHandle } from '@ccg/db';
import { newTestSchemaName, sampleCluster, testDatabaseUrl } from '@ccg/testkit';
import { matchingClusterIds, normaliseMetricsPath, parseClusterFilter } from '@ccg/placement';

const leaf = (variable: string, operator: string, value: unknown) => ({ variable, operator, value });
const and = (...conditions: unknown[]) => ({ logicalOperator: 'AND', conditions });
const or = (...conditions: unknown[]) => ({ logicalOperator: 'OR', conditions });

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect((err as { status: number }).status).toBe(400);
    return (err as { details: { field: string } }).details.field;
  }
  throw new Error('expected a 400');
}

describe('parseClusterFilter (validation and normalisation)', () => {
  it('normalises the spec spellings of metric keys', () => {
    expect(normaliseMetricsPath('cluster.vcpu.load_15m')).toBe('cluster.vcpu.load15m');
    expect(normaliseMetricsPath('cluster.vcpu.load_1m')).toBe('cluster.vcpu.load1m');
    expect(normaliseMetricsPath('nodes.metrics.resource.node.gpu.totalFreeMem')).toBe('nodes.gpu.totalFreeMem');
    const f = parseClusterFilter({ clusterMetricsQuery: and(leaf('cluster.vcpu.load_15m', '<', '10')) });
    expect(f.clusterMetricsQuery).toEqual(and(leaf('cluster.vcpu.load15m', '<', '10')));
  });

  it('names the bad condition', () => {
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: and(leaf('a', '==', 1), leaf('b', '~', 1)) }))).toBe('filter.clusterQuery.conditions.1.operator');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: and(leaf('a b', '==', 1)) }))).toBe('filter.clusterQuery.conditions.0.variable');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: leaf(Array(11).fill('a').join('.'), '==', 1) }))).toBe('filter.clusterQuery.variable');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: leaf('a', 'IN', 'x') }))).toBe('filter.clusterQuery.value');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: leaf('a', 'IN', [1, {}]) }))).toBe('filter.clusterQuery.value.1');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: leaf('a', '<', true) }))).toBe('filter.clusterQuery.value');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: leaf('a', 'LIKE', 3) }))).toBe('filter.clusterQuery.value');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: { logicalOperator: 'XOR', conditions: [] } }))).toBe('filter.clusterQuery.logicalOperator');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: and() }))).toBe('filter.clusterQuery.conditions');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: { aggOperator: 'count', target: 'nodes', operator: '>', value: 1 } }))).toBe('filter.clusterQuery.aggOperator');
    expect(fieldOf(() => parseClusterFilter({ clusterMetricsQuery: leaf('nodes.vcpu.load15m', '<', 1) }))).toBe('filter.clusterMetricsQuery.variable');
    expect(fieldOf(() => parseClusterFilter({ clusterMetricsQuery: leaf('memory.freeMem', '<', 1) }))).toBe('filter.clusterMetricsQuery.variable');
    expect(fieldOf(() => parseClusterFilter({ clusterMetricsQuery: { aggOperator: 'avg', target: 'cluster.x', operator: '>', value: 1 } }))).toBe('filter.clusterMetricsQuery.target');
    expect(fieldOf(() => parseClusterFilter({ clusterMetricsQuery: { aggOperator: 'avg', target: 'nodes.x', operator: 'IN', value: 1 } }))).toBe('filter.clusterMetricsQuery.operator');
    expect(fieldOf(() => parseClusterFilter({ clusterMetricsQuery: { aggOperator: 'avg', target: 'nodes.x', operator: '>', value: 'ten' } }))).toBe('filter.clusterMetricsQuery.value');
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: { variable: 'a', operator: '==', value: 1, extra: 1 } }))).toBe('filter.clusterQuery.extra');
    expect(fieldOf(() => parseClusterFilter({}))).toBe('filter');
    expect(fieldOf(() => parseClusterFilter({ blockQuery: leaf('a', '==', 1) }))).toBe('filter.blockQuery');
    let deep: unknown = leaf('a', '==', 1);
    for (let i = 0; i < 11; i++) deep = and(deep);
    expect(fieldOf(() => parseClusterFilter({ clusterQuery: deep }))).toMatch(/^filter\.clusterQuery(\.conditions\.0)*$/);
  });
});

describe('filter SQL (against Postgres)', () => {
  let h: DbHandle;
  const schema = newTestSchemaName();
  const ids = (raw: unknown) => matchingClusterIds(h.db, raw);
  const doc = (id: string, gpus: unknown, vendor: unknown, extra: object = {}) => ({ ...sampleCluster(id), gpus: { count: gpus }, clusterMetadata: { ...(sampleCluster(id).clusterMetadata as object), vendor }, ...extra });

  beforeAll(async () => {
    h = await connectDb({ connectionString: testDatabaseUrl(), schema, max: 2 });
    await migrateToLatest(h.db);
    const repo = new ClusterRepository(h.db);
    await repo.insert('a', doc('a', 8, 'dma-bangalore', { reputation: 90, tags: ['gpu', 'prod'] }));
    await repo.insert('b', doc('b', '7', 'dma-bangalore', { reputation: '80' }));
    await repo.insert('c', doc('c', 2, 'dma-bangalore', { reputation: 70 }));
    await repo.insert('d', doc('d', 9, 'other', { reputation: 60 }));
    await repo.insert('e', doc('e', 'many', "x' OR 1=1 --", { reputation: true }));
    const m = new MetricsRepository(h.db);
    const report = (id: string, load15m: unknown, free: unknown, nodes: object[]) => m.record({ cluster_id: id, cluster: { vcpu: { load15m }, gpu: { totalFreeMem: free } }, nodes: nodes as never, source: 'push', collected_at: new Date() }, 3);
    await report('a', 2, 12000, [{ id: 'n1', vcpu: { load15m: 1 }, gpu: { totalFreeMem: 6000 } }, { id: 'n2', vcpu: { load15m: 3 }, gpu: { totalFreeMem: 6000 } }]);
    await report('b', '3.5', '9500', [{ id: 'n1', vcpu: { load15m: 3.5 } }]);
    await report('d', 20, 50000, [{ id: 'n1' }, { id: 'n2' }, { id: 'n3' }]);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the spec sample filter (string values, load_15m) selects the plainly matching clusters', async () => {
    const sample = {
      clusterMetricsQuery: and(leaf('cluster.vcpu.load_15m', '<', '10'), leaf('cluster.gpu.totalFreeMem', '>', '9000')),
      clusterQuery: and(leaf('gpus.count', '>', '5'), leaf('clusterMetadata.vendor', '==', 'dma-bangalore')),
    };
    expect(await ids(sample)).toEqual(['a', 'b']);
  });

  it('each operator, with numeric coercion both ways and missing fields', async () => {
    expect(await ids({ clusterQuery: leaf('gpus.count', '==', 8) })).toEqual(['a']);
    expect(await ids({ clusterQuery: leaf('gpus.count', '==', '7') })).toEqual(['b']);
    expect(await ids({ clusterQuery: leaf('gpus.count', '!=', 8) })).toEqual(['b', 'c', 'd', 'e']);
    expect(await ids({ clusterQuery: leaf('gpus.count', '<', 7) })).toEqual(['c']);
    expect(await ids({ clusterQuery: leaf('gpus.count', '<=', 7) })).toEqual(['b', 'c']);
    expect(await ids({ clusterQuery: leaf('gpus.count', '>=', '8') })).toEqual(['a', 'd']);
    expect(await ids({ clusterQuery: leaf('gpus.count', 'IN', [2, '9']) })).toEqual(['c', 'd']);
    expect(await ids({ clusterQuery: leaf('clusterMetadata.vendor', 'IN', ['other', 'nope']) })).toEqual(['d']);
    expect(await ids({ clusterQuery: leaf('clusterMetadata.vendor', 'LIKE', 'dma-%') })).toEqual(['a', 'b', 'c']);
    expect(await ids({ clusterQuery: leaf('clusterMetadata.vendor', 'LIKE', 'oth_r') })).toEqual(['d']);
    expect(await ids({ clusterQuery: leaf('clusterMetadata.vendor', '<', 'e') })).toEqual(['a', 'b', 'c']);
    expect(await ids({ clusterQuery: leaf('reputation', '==', true) })).toEqual(['e']);
    // missing: never matches, except !=
    expect(await ids({ clusterQuery: leaf('no.such.field', '==', 1) })).toEqual([]);
    expect(await ids({ clusterQuery: leaf('no.such.field', '<', 'z') })).toEqual([]);
    expect(await ids({ clusterQuery: leaf('no.such.field', '!=', 1) })).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('binds values: an injection attempt matches only the literal string', async () => {
    expect(await ids({ clusterQuery: leaf('clusterMetadata.vendor', '==', "x' OR 1=1 --") })).toEqual(['e']);
    expect(await ids({ clusterQuery: leaf('clusterMetadata.vendor', '==', "y' OR 1=1 --") })).toEqual([]);
    expect(await ids({ clusterQuery: leaf('clusterMetadata.vendor', 'LIKE', "%' OR '1'='1") })).toEqual([]);
  });

  it('nesting with OR; metrics conditions fail for clusters without metrics', async () => {
    expect(await ids({ clusterQuery: or(leaf('reputation', '>', 85), and(leaf('gpus.count', '<', 5), leaf('reputation', '>=', 70))) })).toEqual(['a', 'c']);
    expect(await ids({ clusterMetricsQuery: leaf('cluster.vcpu.load15m', '!=', 2) })).toEqual(['b', 'd']);
    expect(await ids({ clusterMetricsQuery: leaf('clusterId', 'IN', ['a', 'c']) })).toEqual(['a']);
  });

  it('aggregates over the node metrics documents', async () => {
    const agg = (aggOperator: string, target: string, operator: string, value: unknown) => ({ clusterMetricsQuery: { aggOperator, target, operator, value } });
    expect(await ids(agg('count', 'nodes', '>=', 2))).toEqual(['a', 'd']);
    expect(await ids(agg('count', 'nodes.vcpu.load15m', '==', 1))).toEqual(['b']);
    expect(await ids(agg('avg', 'nodes.vcpu.load_15m', '==', 2))).toEqual(['a']);
    expect(await ids(agg('sum', 'nodes.gpu.totalFreeMem', '>', '10000'))).toEqual(['a']);
    expect(await ids(agg('max', 'nodes.vcpu.load15m', '>', 3.2))).toEqual(['b']);
    expect(await ids(agg('min', 'nodes.vcpu.load15m', '<', 2))).toEqual(['a']);
  });

  it('explainExclusions says which clusters each top-level condition removes', async () => {
    const r = await explainExclusions(h.db, parseClusterFilter({
      clusterQuery: and(leaf('gpus.count', '>', '5'), leaf('clusterMetadata.vendor', '==', 'dma-bangalore')),
      clusterMetricsQuery: leaf('cluster.vcpu.load15m', '<', 10),
    }));
    expect(r.considered).toBe(5);
    expect(r.conditions.map((c) => [c.path, c.excluded_count, c.excluded_ids])).toEqual([
      ['filter.clusterQuery.conditions.0', 2, ['c', 'e']],
      ['filter.clusterQuery.conditions.1', 2, ['d', 'e']],
      ['filter.clusterMetricsQuery', 3, ['c', 'd', 'e']],
    ]);
    const some = await explainExclusions(h.db, parseClusterFilter({ clusterQuery: leaf('gpus.count', '>', 5) }), ['a', 'c', 'zz']);
    expect(some).toMatchObject({ considered: 2, conditions: [{ excluded_count: 1, excluded_ids: ['c'] }] });
  });
});
