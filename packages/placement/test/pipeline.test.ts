import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JsonObject } from '@ccg/contracts';
import { ClusterRepository, MetricsRepository } from '@ccg/db';
import { sampleCluster, startFakeCluster, startTestGateway, type FakeCluster, type TestGateway } from '@ccg/testkit';
import { normaliseBlock, PlacementPipeline } from '../src/index.js';

describe('normaliseBlock', () => {
  it('reads the spec sample shape (blockId, policyRulesSpec) into the IR shape', () => {
    const b = normaliseBlock({
      blockId: 'blk-1',
      blockComponentURI: 'model.x:1.0.0',
      minInstances: 1,
      policyRulesSpec: [
        { values: { name: 'clusterAllocator', policyRuleURI: 'p.ca:v1', parameters: { filter: { clusterQuery: { variable: 'reputation', operator: '>', value: 5 } } }, settings: { max_candidates: 3 } } },
        { values: { name: 'resourceAllocator', policyRuleURI: 'p.ra:v1', parameters: { gpus: 2 } } },
      ],
    });
    expect(b.id).toBe('blk-1');
    expect(b.policies.clusterAllocator).toEqual({ policyRuleURI: 'p.ca:v1', parameters: { filter: { clusterQuery: { variable: 'reputation', operator: '>', value: 5 } } }, settings: { max_candidates: 3 } });
    expect(b.policies.resourceAllocator.settings).toEqual({});
    expect(b.doc).toMatchObject({ id: 'blk-1', componentUri: 'model.x:1.0.0', blockUri: 'model.x:1.0.0', minInstances: 1, policies: b.policies });
    expect(b.doc).not.toHaveProperty('policyRulesSpec');
    expect(b.doc).not.toHaveProperty('blockId');
  });

  it('reads the Parser IR shape (id, policies map); policyRulesSpec overrides per name; api_mode dropped', () => {
    const b = normaliseBlock({
      id: 'blk-2',
      api_mode: 'dry_run',
      policies: { clusterAllocator: { policyRuleURI: 'a:v1', parameters: {}, settings: {} }, loadBalancer: { policyRuleURI: 'lb:v1' } },
      policyRulesSpec: [{ values: { name: 'clusterAllocator', policyRuleURI: 'b:v1' } }],
    });
    expect(b.policies.clusterAllocator.policyRuleURI).toBe('b:v1');
    expect(b.policies.loadBalancer).toEqual({ policyRuleURI: 'lb:v1', parameters: {}, settings: {} });
    expect(b.doc).not.toHaveProperty('api_mode');
  });

  it('400 naming the field', () => {
    const field = (body: unknown) => {
      try {
        normaliseBlock(body);
      } catch (err) {
        return (err as { details: { field: string } }).details.field;
      }
      return undefined;
    };
    expect(field({})).toBe('id');
    expect(field({ id: 'bad id' })).toBe('id');
    expect(field({ id: 'x', policies: [] })).toBe('policies');
    expect(field({ id: 'x', policyRulesSpec: [{ values: { policyRuleURI: 'a' } }] })).toBe('policyRulesSpec.0.values.name');
    expect(field({ id: 'x', policies: { resourceAllocator: { policyRuleURI: 'r', parameters: { gpus: -1 } } } })).toBe('policies.resourceAllocator.parameters.gpus');
    expect(field({ id: 'x', policies: { clusterAllocator: { policyRuleURI: 'r', parameters: { filter: { clusterQuery: { variable: 'a', operator: '??', value: 1 } } } } } })).toMatch(/^policies\.clusterAllocator\.parameters\.filter\.clusterQuery/);
  });
});

/** A node document with the given free memory (MB) per GPU. */
function node(id: string, freeMems: number[]): JsonObject {
  return { id, gpu: { count: freeMems.length }, gpus: freeMems.map((freeMem, gpu_id) => ({ gpu_id, freeMem, totalMem: 16384, usedMem: 16384 - freeMem })) };
}

describe('PlacementPipeline without a clusterAllocator rule', () => {
  let gw: TestGateway;
  let fake: FakeCluster;
  let pipeline: PlacementPipeline;

  beforeAll(async () => {
    fake = await startFakeCluster();
    gw = await startTestGateway({ worker: false });
    const clusters = new ClusterRepository(gw.db.db);
    const metrics = new MetricsRepository(gw.db.db);
    const put = async (id: string, nodes: JsonObject[] | null) => {
      await clusters.insert(id, { ...sampleCluster(id), config: { urlMap: fake.urlMap } });
      if (nodes) await metrics.record({ cluster_id: id, cluster: {}, nodes, source: 'push', collected_at: new Date() }, 10);
    };
    // Four free GPUs in total, but one per node: cannot host a 2-GPU block.
    await put('p-spread', [node('n1', [16000]), node('n2', [16000]), node('n3', [16000]), node('n4', [16000])]);
    // Two free GPUs on one node.
    await put('p-packed', [node('n1', [9000, 8000]), node('n2', [])]);
    // Two free GPUs on one node, with more free memory.
    await put('p-roomy', [node('n1', [15000, 15000, 100])]);
    await put('p-silent', null);
    pipeline = new PlacementPipeline({ ...gw.services.operations, db: gw.db.db, policy: gw.policy });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  const block = (gpus: number, extra: JsonObject = {}) => normaliseBlock({ id: 'b', policies: { resourceAllocator: { policyRuleURI: 'ra', parameters: { gpus, ...extra } } } });

  it('ranks by the best single node, not cluster-wide sums, and says why a cluster was dropped', async () => {
    const b = block(2);
    const s = await pipeline.select(b, await pipeline.filter(b));
    expect(s.by).toBe('default');
    expect(s.cluster_ids).toEqual(['p-roomy', 'p-packed']);
    expect(s.fit![0]).toMatchObject({ cluster_id: 'p-roomy', node_id: 'n1', free_gpu_mem: 30000 });
    expect(Object.fromEntries(s.dropped!.map((d) => [d.cluster_id, d.reason]))).toEqual({ 'p-spread': 'no node has 2 free GPU(s)', 'p-silent': 'no metrics reported yet' });
  });

  it('the filter passes on the best candidateLimit clusters by their best node, unreported ones last', async () => {
    const b = block(1);
    expect((await pipeline.filter(b)).map((c) => c.id)).toEqual(['p-roomy', 'p-packed', 'p-spread', 'p-silent']);
    const limited = new PlacementPipeline({ ...gw.services.operations, db: gw.db.db, policy: gw.policy, options: { candidateLimit: 2 } });
    expect((await limited.filter(b)).map((c) => c.id)).toEqual(['p-roomy', 'p-packed']);
  });

  it('min_gpu_free_memory decides which GPUs count as free', async () => {
    const b = block(2, { min_gpu_free_memory: 8500 });
    expect((await pipeline.select(b, await pipeline.filter(b))).cluster_ids).toEqual(['p-roomy']);
  });

  it('dry runs in parallel and picks the highest score; a score of 0 everywhere means nothing fits', async () => {
    const b = block(1);
    const runs = await pipeline.dryRun(b, ['p-roomy', 'p-packed']);
    expect(runs.map((r) => r.score_data?.score)).toEqual([0.5, 0.5]);
    expect((await pipeline.pick(b, runs)).pick!.id).toBe('p-packed'); // tie: the lower id
    fake.respond('dry_run', { status: 200, body: { success: true, data: { selection_score_data: { score: 0, node_info: {} } } } });
    const zero = await pipeline.pick(b, await pipeline.dryRun(b, ['p-roomy']));
    expect(zero.pick).toBeNull();
    expect(zero.reason_nothing_fits).toMatch(/scored 0/);
    fake.respond('dry_run', { status: 200, body: { success: true, data: { nonsense: true } } });
    const bad = await pipeline.dryRun(b, ['p-roomy']);
    expect(bad[0].error?.code).toBe('INVALID_DRY_RUN');
  });
});
