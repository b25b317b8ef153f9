import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MetricsRepository } from '@ccg/db';
import { sampleCluster, startTestGateway, type TestGateway } from '@ccg/testkit';

/** A node document as the local metrics service stores it (reference §5.2). */
function storedNode(id: string, load15m: number, freeGpuMem: number) {
  return {
    type: 'hardware',
    nodeId: id,
    clusterId: 'metrics-c1',
    metrics: { resource: { node: { id, vcpu: { load1m: 0.5, load15m }, memory: { freeMem: 2000, usedMem: 1000, averageUtil: 33.3 }, gpu: { totalFreeMem: freeGpuMem, count: 2 }, gpus: [{ gpu_id: 0, freeMem: freeGpuMem / 2 }] } } },
  };
}

const report = (nodes: object[], extra: object = {}) => ({ cluster: { vcpu: { load15m: 1.5 }, gpu: { totalFreeMem: 30000, count: 4 } }, nodes, ...extra });

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ worker: false, env: { METRICS_STALE_AFTER_MS: '60000', METRICS_HISTORY_LIMIT: '3' } });
  await gw.request('POST', '/clusters/create', sampleCluster('metrics-c1'));
  await gw.request('POST', '/clusters/create', sampleCluster('metrics-quiet'));
});
afterAll(async () => {
  await gw.close();
});

describe('cluster metrics', () => {
  it('stores what a metrics writer pushes and serves it (spec §2.1, §2.2)', async () => {
    const pushed = await gw.request('POST', '/cluster-metrics/metrics-c1/report', report([storedNode('node-1', 0.7, 20000), { id: 'node-2', vcpu: { load15m: 2.5 }, gpu: { totalFreeMem: 10000 } }]));
    expect(pushed.status).toBe(200);
    const res = await gw.request('GET', '/cluster-metrics/metrics-c1', undefined, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ cluster_id: 'metrics-c1', stale: false, source: 'push', cluster: { vcpu: { load15m: 1.5 } } });
    expect(res.body.data.nodes.map((n: any) => n.id)).toEqual(['node-1', 'node-2']);
    expect(res.body.data.nodes[0].vcpu.load15m).toBe(0.7);

    const node = await gw.request('GET', '/cluster-metrics/node/metrics-c1/node-2');
    expect(node.status).toBe(200);
    expect(node.body.data).toMatchObject({ id: 'node-2', cluster_id: 'metrics-c1', stale: false, vcpu: { load15m: 2.5 } });
  });

  it('queries nodes by equality on dotted paths', async () => {
    const res = await gw.request('POST', '/cluster-metrics/metrics-c1/node/query', { 'vcpu.load15m': 2.5 });
    expect(res.status).toBe(200);
    expect(res.body.data.items.map((n: any) => n.id)).toEqual(['node-2']);
    const none = await gw.request('POST', '/cluster-metrics/metrics-c1/node/query', { 'gpu.count': 99 });
    expect(none.body.data.items).toEqual([]);
    const bad = await gw.request('POST', '/cluster-metrics/metrics-c1/node/query', {});
    expect(bad.status).toBe(400);
  });

  it('queries nodes with the placement filter language (spec metric names resolve; numeric strings compare as numbers)', async () => {
    const q = (body: object) => gw.request('POST', '/cluster-metrics/metrics-c1/node/query', body);
    const hot = await q({ logicalOperator: 'AND', conditions: [{ variable: 'vcpu.load_15m', operator: '>', value: '1' }] });
    expect(hot.status).toBe(200);
    expect(hot.body.data.items.map((n: any) => n.id)).toEqual(['node-2']);
    const either = await q({ logicalOperator: 'OR', conditions: [{ variable: 'nodes.metrics.resource.node.vcpu.load_15m', operator: '<', value: 1 }, { variable: 'gpu.totalFreeMem', operator: '>=', value: 10000 }] });
    expect(either.body.data.items.map((n: any) => n.id).sort()).toEqual(['node-1', 'node-2']);
    const single = await q({ variable: 'id', operator: 'IN', value: ['node-1', 'node-9'] });
    expect(single.body.data.items.map((n: any) => n.id)).toEqual(['node-1']);
    const badOp = await q({ logicalOperator: 'AND', conditions: [{ variable: 'vcpu.load15m', operator: '~', value: 1 }] });
    expect(badOp.status).toBe(400);
    expect(badOp.body.error.details.field).toBe('body.conditions.0.operator');
    const agg = await q({ logicalOperator: 'AND', conditions: [{ aggOperator: 'count', target: 'nodes', operator: '>', value: 1 }] });
    expect(agg.status).toBe(400);
  });

  it('404 for an unknown cluster, a cluster that never reported, and an unknown node', async () => {
    expect((await gw.request('GET', '/cluster-metrics/nope')).status).toBe(404);
    expect((await gw.request('GET', '/cluster-metrics/metrics-quiet')).status).toBe(404);
    expect((await gw.request('GET', '/cluster-metrics/node/metrics-c1/node-9')).status).toBe(404);
    expect((await gw.request('POST', '/cluster-metrics/nope/report', report([]))).status).toBe(404);
    expect((await gw.request('POST', '/cluster-metrics/nope/node/query', { a: 1 })).status).toBe(404);
  });

  it('400 naming the bad field of a report', async () => {
    for (const [body, field] of [
      [{ nodes: [] }, 'cluster'],
      [{ cluster: {}, nodes: 'x' }, 'nodes'],
      [{ cluster: {}, nodes: [{ vcpu: {} }] }, 'nodes.0.id'],
      [{ cluster: {}, nodes: [], collected_at: 'yesterday' }, 'collected_at'],
    ] as const) {
      const res = await gw.request('POST', '/cluster-metrics/metrics-c1/report', body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.field).toBe(field);
    }
  });

  it('a cluster that stops reporting shows as stale; an older report never replaces a newer one', async () => {
    const old = new Date(Date.now() - 5 * 60_000).toISOString();
    await gw.request('POST', '/clusters/create', sampleCluster('metrics-stale'));
    await gw.request('POST', '/cluster-metrics/metrics-stale/report', report([storedNode('node-1', 1, 1)], { collected_at: old }));
    const res = await gw.request('GET', '/cluster-metrics/metrics-stale');
    expect(res.body.data).toMatchObject({ stale: true, collected_at: old });
    expect((await gw.request('GET', '/cluster-metrics/node/metrics-stale/node-1')).body.data.stale).toBe(true);
    await gw.request('POST', '/cluster-metrics/metrics-stale/report', report([storedNode('node-1', 2, 1)]));
    await gw.request('POST', '/cluster-metrics/metrics-stale/report', report([storedNode('node-1', 3, 1)], { collected_at: old }));
    const fresh = await gw.request('GET', '/cluster-metrics/metrics-stale');
    expect(fresh.body.data.stale).toBe(false);
    expect(fresh.body.data.nodes[0].vcpu.load15m).toBe(2);
  });

  it('keeps a bounded history', async () => {
    for (let i = 0; i < 6; i++) await gw.request('POST', '/cluster-metrics/metrics-c1/report', report([storedNode('node-1', i, 1)]));
    expect(await new MetricsRepository(gw.db.db).historyCount('metrics-c1')).toBe(3);
  });

  it('a bad ?live= value is 400', async () => {
    expect((await gw.request('GET', '/cluster-metrics/metrics-c1?live=maybe')).status).toBe(400);
  });
});
