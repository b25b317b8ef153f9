import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BlockRepository } from '@ccg/db';
import { defaultFakeMetrics, sampleBlock, sampleCluster, startFakeCluster, startTestGateway, waitFor, type FakeCluster, type TestGateway } from '@ccg/testkit';

/** A standard selector: keeps every filtered cluster; after the dry run, the highest (or lowest) score. */
const selector = (lowest: boolean) => `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, input, context) {
    if (input.action === 'selection') return { clusters: input.filter_result };
    let best = null;
    for (const c of input.clusters) {
      if (!best || (${lowest} ? c.score_data.score < best.score_data.score : c.score_data.score > best.score_data.score)) best = c;
    }
    return best;
  }
}`;

/** The same lowest-score selector in Python, written to the spec's AIOSv1PolicyRule contract. */
const PY_LOWEST = `class AIOSv1PolicyRule:
    def __init__(self, rule_id, settings, parameters):
        self.settings = settings
        self.parameters = parameters

    def eval(self, parameters, input_data, context):
        if input_data.get("action") == "selection":
            return {"clusters": input_data["filter_result"]}
        return min(input_data["clusters"], key=lambda c: c["score_data"]["score"])
`;

const DENY_ADD = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) { return { allowed: false, input_data: 'no capacity for ' + inputData.block_data.id + ' on ' + inputData.cluster_data.id }; }
}`;

const RECORDER = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    return { allowed: false, input_data: { keys: Object.keys(inputData).sort(), block_metrics: inputData.block_metrics, block_id: inputData.block_data.id, cluster_id: inputData.cluster_data.id } };
  }
}`;

let gw: TestGateway;
const fakes: Record<string, FakeCluster> = {};
const score = (fake: FakeCluster, s: number) => fake.respond('dry_run', { status: 200, body: { success: true, data: { selection_score_data: { score: s, node_info: { node_id: 'node-1', gpus: [0] } } } } });

async function addCluster(id: string, fake: FakeCluster, patch: Record<string, unknown> = {}, metrics = true) {
  const base = sampleCluster(id);
  const res = await gw.request('POST', '/clusters/create', { ...base, gpus: { count: 8, memory: 131072 }, ...patch, config: { ...(base.config as object), urlMap: fake.urlMap } });
  expect(res.status).toBe(200);
  if (metrics) {
    const m = defaultFakeMetrics();
    expect((await gw.request('POST', `/cluster-metrics/${id}/report`, { cluster: m.cluster_metrics, nodes: m.node_metrics })).status).toBe(200);
  }
}

async function finished(taskId: string) {
  const r = await waitFor(() => gw.request('GET', `/tasks/${taskId}`), (r) => ['completed', 'failed', 'cancelled'].includes(r.body?.data?.task_status), 30_000, 100);
  return r.body.data;
}

beforeAll(async () => {
  for (const k of ['a', 'b', 'hang', 'fail', 'other']) fakes[k] = await startFakeCluster();
  score(fakes.a, 0.9);
  score(fakes.b, 0.4);
  fakes.hang.hang('dry_run');
  fakes.fail.fail('dry_run', 500);
  // No metrics pull: which clusters have metrics is this file's fixture (bx-no-metrics has none).
  gw = await startTestGateway({ env: { CLUSTER_CLIENT_TIMEOUT_MS: '500', METRICS_PULL_INTERVAL_MS: '0' } });
  await addCluster('ba-a', fakes.a);
  await addCluster('ba-b', fakes.b);
  await addCluster('ba-hang', fakes.hang);
  await addCluster('ba-fail', fakes.fail);
  await addCluster('bx-few-gpus', fakes.other, { gpus: { count: 2, memory: 32768 } });
  await addCluster('bx-vendor', fakes.other, { clusterMetadata: { ...(sampleCluster('x').clusterMetadata as object), vendor: 'other-vendor' } });
  await addCluster('bx-no-metrics', fakes.other, {}, false);
  for (const [uri, code] of [
    ['policy.clusterAllocator.yolo-cluster-selector:v1', selector(false)],
    ['test.alloc.lowest:v1', selector(true)],
    ['test.alloc.deny-add:v1', DENY_ADD],
    ['test.alloc.recorder:v1', RECORDER],
  ]) {
    expect((await gw.request('POST', '/policies', { uri, runtime: 'js', code })).status).toBe(200);
  }
  expect((await gw.request('POST', '/policies', { uri: 'test.alloc.py-lowest:v1', runtime: 'python', code: PY_LOWEST })).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

describe('POST /blockActions/dryRun', () => {
  it('names the candidates, explains exclusions, reports every dry run and picks the best', async () => {
    const res = await gw.request('POST', '/blockActions/dryRun', sampleBlock());
    expect(res.status).toBe(200);
    const d = res.body.data;
    expect(d.candidates).toEqual(['ba-a', 'ba-b', 'ba-fail', 'ba-hang']);
    const byPath = Object.fromEntries(d.excluded_by_condition.conditions.map((c: any) => [c.path, c.excluded_ids]));
    expect(byPath['filter.clusterQuery.conditions.0']).toEqual(['bx-few-gpus']);
    expect(byPath['filter.clusterQuery.conditions.1']).toEqual(['bx-vendor']);
    expect(byPath['filter.clusterMetricsQuery.conditions.0']).toEqual(['bx-no-metrics']);
    expect(d.selection).toMatchObject({ by: 'rule', cluster_ids: ['ba-a', 'ba-b', 'ba-fail', 'ba-hang'] });
    const runs = Object.fromEntries(d.dry_runs.map((r: any) => [r.cluster_id, r]));
    expect(runs['ba-a'].score_data.score).toBe(0.9);
    expect(runs['ba-b'].score_data.score).toBe(0.4);
    expect(runs['ba-hang'].error.code).toBe('UPSTREAM_TIMEOUT');
    expect(runs['ba-fail'].error.code).toBe('UPSTREAM_ERROR');
    expect(d.pick).toMatchObject({ id: 'ba-a', score_data: { score: 0.9 } });
    // The controller got the documented dry_run body.
    const body = fakes.a.receivedOn('dry_run').at(-1)!.body;
    expect(Object.keys(body).sort()).toEqual(['action', 'inputs', 'parameters', 'policy_rule_uri', 'settings']);
    expect(body).toMatchObject({ policy_rule_uri: 'policy.resourceAllocator.yolo-gpu-scheduler:v0.0.1-beta', parameters: { gpus: 1 }, inputs: { id: 'detector-yolo-88' } });
  });

  it('a rule that picks the lowest score gets the lowest', async () => {
    const block = sampleBlock();
    block.policyRulesSpec[0].values.policyRuleURI = 'test.alloc.lowest:v1';
    const res = await gw.request('POST', '/blockActions/dryRun', block);
    expect(res.status).toBe(200);
    expect(res.body.data.pick.id).toBe('ba-b');
  });

  it('a Python rule that picks the lowest score gets the lowest', async () => {
    const block = sampleBlock();
    block.policyRulesSpec[0].values.policyRuleURI = 'test.alloc.py-lowest:v1';
    const res = await gw.request('POST', '/blockActions/dryRun', block);
    expect(res.status).toBe(200);
    expect(res.body.data.selection).toMatchObject({ by: 'rule', policy_rule_uri: 'test.alloc.py-lowest:v1' });
    expect(res.body.data.pick.id).toBe('ba-b');
  });

  it('without a clusterAllocator rule, ranks by node GPU fit and picks the highest dry-run score', async () => {
    const block = sampleBlock();
    block.policyRulesSpec[0].values.policyRuleURI = '';
    const res = await gw.request('POST', '/blockActions/dryRun', block);
    expect(res.status).toBe(200);
    expect(res.body.data.selection.by).toBe('default');
    expect(res.body.data.pick.id).toBe('ba-a');
  });

  it('explains why nothing fits when no cluster matches', async () => {
    const block = sampleBlock();
    block.policyRulesSpec[0].values.parameters.filter.clusterQuery.conditions[1].value = 'nobody';
    const res = await gw.request('POST', '/blockActions/dryRun', block);
    expect(res.status).toBe(200);
    expect(res.body.data.candidates).toEqual([]);
    expect(res.body.data.pick).toBeNull();
    expect(res.body.data.reason_nothing_fits).toEqual(expect.any(String));
  });

  it('400 naming the field for a bad block or filter; 400 for an unregistered allocator rule', async () => {
    expect((await gw.request('POST', '/blockActions/dryRun', { policies: {} })).body.error.details.field).toBe('id');
    const block = sampleBlock();
    block.policyRulesSpec[0].values.parameters.filter.clusterQuery.conditions[0].operator = '~';
    const bad = await gw.request('POST', '/blockActions/dryRun', block);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toMatch(/^policyRulesSpec\.0\.values\.parameters\.filter\.clusterQuery\.conditions\.0/);
    const unknown = sampleBlock();
    unknown.policyRulesSpec[0].values.policyRuleURI = 'test.nope:v1';
    const u = await gw.request('POST', '/blockActions/dryRun', unknown);
    expect(u.status).toBe(400);
    expect(u.body.error.details.field).toBe('policies.clusterAllocator.policyRuleURI');
  });
});

describe('POST /blockActions/selectClusters', () => {
  it('answers the selection output {clusters}', async () => {
    const res = await gw.request('POST', '/blockActions/selectClusters', sampleBlock());
    expect(res.status).toBe(200);
    expect(res.body.data.clusters.map((c: any) => c.id)).toEqual(['ba-a', 'ba-b', 'ba-fail', 'ba-hang']);
  });
});

describe('allocate and de-allocate', () => {
  it('allocate creates the block on the picked cluster, with a step per stage, and records it', async () => {
    const res = await gw.request('POST', '/blockActions/allocate', sampleBlock('alloc-1'));
    expect(res.status).toBe(200);
    expect(res.body.data.task_type).toBe('block_allocation');
    const task = await finished(res.body.data.task_id);
    expect(task.task_status).toBe('completed');
    expect(task.steps.map((s: any) => [s.name, s.status])).toEqual(
      ['filter', 'select', 'dry-run', 'pick', 'precheck', 'create', 'record'].map((n) => [n, 'completed']),
    );
    expect(task.task_status_data.result).toMatchObject({ block_id: 'alloc-1', cluster_id: 'ba-a' });
    const created = fakes.a.receivedOn('create_block');
    expect(created).toHaveLength(1);
    expect(Object.keys(created[0].body).sort()).toEqual(['action', 'block_data', 'cluster_id']);
    expect(created[0].body).toMatchObject({ action: 'create_block', cluster_id: 'ba-a', block_data: { id: 'alloc-1', componentUri: 'model.object-detector:2.0.0-stable' } });
    const row = await new BlockRepository(gw.db.db).get('alloc-1');
    expect(row).toMatchObject({ cluster_id: 'ba-a', status: 'running' });
  });

  it('a denying add_block rule fails the task with its reason; nothing is created', async () => {
    expect((await gw.request('POST', '/pre-check-policies/update', { add_block: 'test.alloc.deny-add:v1' })).status).toBe(200);
    try {
      const before = fakes.a.receivedOn('create_block').length;
      const res = await gw.request('POST', '/blockActions/allocate', sampleBlock('alloc-denied'));
      const task = await finished(res.body.data.task_id);
      expect(task.task_status).toBe('failed');
      expect(task.task_status_data.failed_step).toBe('precheck');
      expect(task.task_status_data.error).toContain('no capacity for alloc-denied on ba-a');
      expect(fakes.a.receivedOn('create_block')).toHaveLength(before);
      expect((await gw.request('GET', '/blocks/alloc-denied')).status).toBe(404);
    } finally {
      await gw.request('POST', '/pre-check-policies/update', { add_block: '' });
    }
  });

  it('remove_block pre-check receives exactly the spec keys; de-allocation removes after the controller succeeded', async () => {
    expect((await gw.request('POST', '/pre-check-policies/update', { remove_block: 'test.alloc.recorder:v1' })).status).toBe(200);
    try {
      const res = await gw.request('POST', '/blockActions/deallocate', { block_id: 'alloc-1' });
      expect(res.status).toBe(200);
      const task = await finished(res.body.data.task_id);
      expect(task.task_status).toBe('failed');
      const reason = JSON.parse(task.task_status_data.error.slice(task.task_status_data.error.indexOf(': {') + 2));
      expect(reason).toEqual({ keys: ['block_data', 'block_instance_nodes', 'block_metrics', 'cluster_data', 'cluster_metrics'], block_metrics: null, block_id: 'alloc-1', cluster_id: 'ba-a' });
      expect(fakes.a.receivedOn('remove_block')).toHaveLength(0);
      expect((await new BlockRepository(gw.db.db).get('alloc-1')).status).toBe('running');
    } finally {
      await gw.request('POST', '/pre-check-policies/update', { remove_block: '' });
    }
    // A failing controller leaves the entry as it was.
    fakes.a.fail('remove_block', 500, 1);
    const failed = await finished((await gw.request('DELETE', '/blocks/alloc-1')).body.data.task_id);
    expect(failed.task_status).toBe('failed');
    expect((await new BlockRepository(gw.db.db).get('alloc-1')).status).toBe('running');

    const res = await gw.request('DELETE', '/blocks/alloc-1');
    expect(res.status).toBe(200);
    const task = await finished(res.body.data.task_id);
    expect(task.task_status).toBe('completed');
    expect(task.steps.map((s: any) => s.name)).toEqual(['precheck', 'remove', 'record']);
    expect(fakes.a.receivedOn('remove_block').at(-1)!.body).toEqual({ action: 'remove_block', block_id: 'alloc-1', cluster_id: 'ba-a' });
    expect((await new BlockRepository(gw.db.db).get('alloc-1')).status).toBe('removed');
    expect((await gw.request('POST', '/blockActions/deallocate', { block_id: 'alloc-1' })).status).toBe(409);
    expect((await gw.request('POST', '/blockActions/deallocate', { block_id: 'nope' })).status).toBe(404);
    expect((await gw.request('POST', '/blockActions/deallocate', {})).body.error.details.field).toBe('block_id');
  });

  it('a second allocate of a block id being allocated is a 409 naming the running task', async () => {
    fakes.a.delay('create_block', 1500);
    const first = await gw.request('POST', '/blockActions/allocate', sampleBlock('alloc-twice'));
    expect(first.status).toBe(200);
    const second = await gw.request('POST', '/blockActions/allocate', sampleBlock('alloc-twice'));
    expect(second.status).toBe(409);
    expect(second.body.error.details.task_id).toBe(first.body.data.task_id);
    expect(second.body.message).toContain(first.body.data.task_id);
    expect((await finished(first.body.data.task_id)).task_status).toBe('completed');
    const third = await gw.request('POST', '/blockActions/allocate', sampleBlock('alloc-twice'));
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe('BLOCK_EXISTS');
  });

  it('ten simultaneous allocates of one block id start exactly one task; the others get 409 naming it', async () => {
    fakes.a.delay('create_block', 500);
    const results = await Promise.all(Array.from({ length: 10 }, () => gw.request('POST', '/blockActions/allocate', sampleBlock('alloc-race'))));
    const started = results.filter((r) => r.status === 200);
    expect(started).toHaveLength(1);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(9);
    for (const r of refused) expect(r.body.error.details.task_id).toBe(started[0].body.data.task_id);
    expect((await finished(started[0].body.data.task_id)).task_status).toBe('completed');
    const tasks = await gw.request('GET', '/tasks?task_type=block_allocation&limit=500');
    expect(tasks.body.data.items.filter((t: any) => t.task_data.id === 'alloc-race' || t.task_data.blockId === 'alloc-race')).toHaveLength(1);
  });
});
