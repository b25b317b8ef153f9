import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sampleCluster, startTestGateway, type TestGateway } from '@ccg/testkit';

const leaf = (variable: string, operator: string, value: unknown) => ({ variable, operator, value });
const and = (...conditions: unknown[]) => ({ logicalOperator: 'AND', conditions });
const or = (...conditions: unknown[]) => ({ logicalOperator: 'OR', conditions });

/** The spec's clusterAllocator sample filter, verbatim. */
const SAMPLE = {
  clusterMetricsQuery: and(leaf('cluster.vcpu.load_15m', '<', '10'), leaf('cluster.gpu.totalFreeMem', '>', '9000')),
  clusterQuery: and(leaf('gpus.count', '>', '5'), leaf('clusterMetadata.vendor', '==', 'dma-bangalore')),
};

let gw: TestGateway;
const cluster = (id: string, gpus: number, vendor: string) => ({ ...sampleCluster(id), gpus: { count: gpus, memory: 49152 }, clusterMetadata: { ...(sampleCluster(id).clusterMetadata as object), vendor } });
const push = (id: string, load15m: number, totalFreeMem: number, nodes: object[] = [{ id: 'node-1', vcpu: { load15m }, gpu: { totalFreeMem } }]) =>
  gw.request('POST', `/cluster-metrics/${id}/report`, { cluster: { vcpu: { load15m }, gpu: { totalFreeMem } }, nodes });
const query = async (body: unknown, qs = '') => gw.request('POST', `/clusters/query${qs}`, body);
const idsOf = (res: { body: any }) => res.body.data.items.map((c: any) => c.id);

beforeAll(async () => {
  gw = await startTestGateway({ worker: false });
  const clusters: [string, number, string][] = [
    ['q-match-1', 8, 'dma-bangalore'], // matches everything
    ['q-match-2', 6, 'dma-bangalore'], // matches everything
    ['q-few-gpus', 4, 'dma-bangalore'], // fails gpus.count > 5
    ['q-other-vendor', 8, 'other'], // fails the vendor
    ['q-busy', 8, 'dma-bangalore'], // fails load15m < 10
    ['q-no-gpu-mem', 8, 'dma-bangalore'], // fails totalFreeMem > 9000
    ['q-no-metrics', 8, 'dma-bangalore'], // never reported: fails every metrics condition
  ];
  for (const [id, gpus, vendor] of clusters) expect((await gw.request('POST', '/clusters/create', cluster(id, gpus, vendor))).status).toBe(200);
  for (const [id, load, free] of [['q-match-1', 2, 12000], ['q-match-2', 9.5, 9001], ['q-few-gpus', 1, 20000], ['q-other-vendor', 1, 20000], ['q-busy', 25, 20000], ['q-no-gpu-mem', 1, 500]] as const) {
    expect((await push(id, load, free)).status).toBe(200);
  }
  await push('q-match-1', 2, 12000, [{ id: 'node-1', vcpu: { load15m: 1 }, gpu: { totalFreeMem: 6000 } }, { id: 'node-2', vcpu: { load15m: 3 }, gpu: { totalFreeMem: 6000 } }]);
});
afterAll(async () => {
  await gw.close();
});

describe('POST /clusters/query', () => {
  it("the spec's sample filter selects exactly the plainly matching clusters, as cluster views", async () => {
    const res = await query({ filter: SAMPLE });
    expect(res.status).toBe(200);
    expect(idsOf(res)).toEqual(['q-match-1', 'q-match-2']);
    expect(res.body.data.next_cursor).toBeNull();
    expect(res.body.data.items[0]).toMatchObject({ id: 'q-match-1', version: 1, regionId: 'us-west-2', gpus: { count: 8 } });
    // the filter object directly as the body
    expect(idsOf(await query(SAMPLE))).toEqual(['q-match-1', 'q-match-2']);
  });

  it('pages with limit and cursor', async () => {
    const filter = { clusterQuery: leaf('clusterMetadata.vendor', '==', 'dma-bangalore') };
    const first = await query({ filter }, '?limit=2');
    expect(idsOf(first)).toEqual(['q-busy', 'q-few-gpus']);
    const second = await query({ filter }, `?limit=2&cursor=${first.body.data.next_cursor}`);
    expect(idsOf(second)).toEqual(['q-match-1', 'q-match-2']);
    const third = await query({ filter }, `?limit=2&cursor=${second.body.data.next_cursor}`);
    expect(idsOf(third)).toEqual(['q-no-gpu-mem', 'q-no-metrics']);
    expect(third.body.data.next_cursor).toBeNull();
  });

  it('each operator', async () => {
    const q = async (l: object) => idsOf(await query({ filter: { clusterQuery: l } }));
    expect(await q(leaf('gpus.count', '==', '6'))).toEqual(['q-match-2']);
    expect(await q(leaf('gpus.count', '!=', 8))).toEqual(['q-few-gpus', 'q-match-2']);
    expect(await q(leaf('gpus.count', '<', 6))).toEqual(['q-few-gpus']);
    expect(await q(leaf('gpus.count', '<=', 6))).toEqual(['q-few-gpus', 'q-match-2']);
    expect(await q(leaf('gpus.count', '>', 6))).toHaveLength(5);
    expect(await q(leaf('gpus.count', '>=', '6'))).toHaveLength(6);
    expect(await q(leaf('id', 'IN', ['q-busy', 'q-match-2', 'nope']))).toEqual(['q-busy', 'q-match-2']);
    expect(await q(leaf('clusterMetadata.vendor', 'LIKE', 'oth%'))).toEqual(['q-other-vendor']);
    expect(await q(leaf('clusterMetadata.vendor', '==', "x' OR 1=1 --"))).toEqual([]);
  });

  it('nesting with OR and aggregates over node metrics', async () => {
    const or1 = await query({ filter: { clusterQuery: or(leaf('gpus.count', '<', 5), and(leaf('clusterMetadata.vendor', '==', 'other'), leaf('gpus.count', '==', 8))) } });
    expect(idsOf(or1)).toEqual(['q-few-gpus', 'q-other-vendor']);
    const agg = await query({ filter: { clusterMetricsQuery: and({ aggOperator: 'count', target: 'nodes', operator: '==', value: 2 }, { aggOperator: 'avg', target: 'nodes.vcpu.load_15m', operator: '<', value: '2.5' }) } });
    expect(idsOf(agg)).toEqual(['q-match-1']);
    const max = await query({ filter: { clusterMetricsQuery: { aggOperator: 'max', target: 'nodes.gpu.totalFreeMem', operator: '<', value: 1000 } } });
    expect(idsOf(max)).toEqual(['q-no-gpu-mem']);
  });

  it('400 naming the bad condition', async () => {
    const bad = async (body: unknown, field: string, qs = '') => {
      const res = await query(body, qs);
      expect(res.status).toBe(400);
      expect(res.body.error.details.field).toBe(field);
    };
    await bad({ filter: { clusterQuery: and(leaf('gpus.count', '>', 5), leaf('x', 'BETWEEN', 1)) } }, 'filter.clusterQuery.conditions.1.operator');
    await bad({ filter: { clusterMetricsQuery: leaf('nodes.vcpu.load15m', '<', 1) } }, 'filter.clusterMetricsQuery.variable');
    await bad({ filter: { clusterQuery: leaf('a;drop', '==', 1) } }, 'filter.clusterQuery.variable');
    await bad({ filter: {} }, 'filter');
    await bad({}, 'filter');
    await bad({ filter: SAMPLE }, 'limit', '?limit=0');
    await bad({ filter: SAMPLE }, 'cursor', '?cursor=zzz');
  });
});
