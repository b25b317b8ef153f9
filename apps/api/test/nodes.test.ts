import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { blockInstancesOnNode, sumNodeTotals, withNodes } from '@ccg/operations';
import { sampleCluster, sampleNode, startFakeCluster, startTestGateway, type FakeCluster, type TestGateway, RECORDING_RULE, registerJsRule, setPrecheckMap, createClusterAt } from '@ccg/testkit';

/** add_node: rewrites the node (tags, memory, metadata) and lets it through. */
const NODE_REWRITER = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    const n = inputData.node_data;
    n.tags = (n.tags || []).concat(['policy-checked']);
    n.memory = 1000;
    n.nodeMetadata = Object.assign({}, n.nodeMetadata, { checkedBy: 'rule' });
    return { allowed: true, input_data: inputData };
  }
}`;

/** remove_node: redirects the removal to parameters.to. */
const NODE_ID_REWRITER = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    inputData.node_id = parameters.to;
    return { allowed: true, input_data: inputData };
  }
}`;

let gw: TestGateway;
let fake: FakeCluster;

const setMap = (body: object) => setPrecheckMap(gw, body);

const createCluster = (id: string) => createClusterAt(gw, id, fake.urlMap);

async function read(id: string) {
  return (await gw.request('GET', `/clusters/read/${id}`)).body.data;
}

const n = (v: unknown) => (typeof v === 'number' ? v : 0);

/** The entry's count and totals equal the sums over its node entries (computed here, independently). */
function expectTotalsAreSums(doc: any) {
  const nodes: any[] = doc.nodes.nodeData;
  const sum = (f: (x: any) => unknown) => nodes.reduce((acc, x) => acc + n(f(x)), 0);
  expect(doc.nodes.count).toBe(nodes.length);
  expect(doc.gpus.count).toBe(sum((x) => x.gpus?.count));
  expect(doc.gpus.memory).toBe(sum((x) => x.gpus?.memory));
  expect(doc.vcpus.count).toBe(sum((x) => x.vcpus?.count));
  expect(doc.memory).toBe(sum((x) => x.memory));
  expect(doc.swap).toBe(sum((x) => x.swap));
  expect(doc.storage.disks).toBe(sum((x) => x.storage?.disks));
  expect(doc.storage.size).toBe(sum((x) => x.storage?.size));
  expect(doc.network.interfaces).toBe(sum((x) => x.network?.interfaces));
  expect(doc.network.txBandwidth).toBe(sum((x) => x.network?.txBandwidth));
  expect(doc.network.rxBandwidth).toBe(sum((x) => x.network?.rxBandwidth));
}

beforeAll(async () => {
  fake = await startFakeCluster();
  gw = await startTestGateway({ worker: false, env: { CLUSTER_CLIENT_TIMEOUT_MS: '500' } });
  await registerJsRule(gw, 'test.nodes.recorder:v1', RECORDING_RULE);
  await registerJsRule(gw, 'test.nodes.rewriter:v1', NODE_REWRITER);
  await registerJsRule(gw, 'test.nodes.id-rewriter:v1', NODE_ID_REWRITER);
});
afterAll(async () => {
  await gw.close();
  await fake.close();
});
beforeEach(() => fake.reset());

describe('node totals (pure)', () => {
  it("sums the spec's sample cluster nodes to its stated totals", () => {
    const c = sampleCluster('x') as any;
    const t = sumNodeTotals(c.nodes.nodeData);
    expect(t).toEqual({
      nodes: { count: 2 },
      gpus: { count: c.gpus.count, memory: c.gpus.memory, modelNames: ['NVIDIA A100', 'NVIDIA V100'] },
      vcpus: c.vcpus,
      memory: c.memory,
      swap: c.swap,
      storage: c.storage,
      network: c.network,
    });
  });

  it('counts missing or non-numeric values as 0 and keeps unrelated fields', () => {
    const t = sumNodeTotals([{ id: 'a' }, { id: 'b', memory: 5, gpus: { count: 'two' }, storage: { size: 7 } }, null]);
    expect(t).toMatchObject({ nodes: { count: 3 }, memory: 5, gpus: { count: 0, memory: 0, modelNames: [] }, storage: { disks: 0, size: 7 }, swap: 0 });
    const doc = withNodes({ id: 'c', regionId: 'r', storage: { kind: 'ssd', disks: 99 } }, [{ id: 'a', storage: { disks: 1 } }]);
    expect(doc).toMatchObject({ id: 'c', regionId: 'r', nodes: { count: 1, nodeData: [{ id: 'a' }] }, storage: { kind: 'ssd', disks: 1, size: 0 } });
  });

  it('finds the blocks with instances on a node in metrics documents', () => {
    const metrics = {
      blocks: [
        { blockId: 'b1', instances: [{ instanceId: 'i1', nodeId: 'node-2' }, { instanceId: 'i2', nodeId: 'node-1' }] },
        { blockId: 'b2', nodeId: 'node-1', instanceId: 'i3' },
        { blockId: 'b3', instances: [{ nodeId: 'node-2' }] },
      ],
      nodes: [{ id: 'node-1', instances: [{ blockId: 'b4' }, { blockId: 'b1' }] }, { id: 'node-2', instances: [{ blockId: 'b5' }] }],
    };
    expect(blockInstancesOnNode(metrics, 'node-1')).toEqual(['b1', 'b2', 'b4']);
    expect(blockInstancesOnNode(null, 'node-1')).toEqual([]);
    expect(blockInstancesOnNode({ cluster: {}, nodes: [] }, 'node-1')).toEqual([]);
  });
});

describe('§8.1 add node', () => {
  it("forwards the spec's sample node as it is and stores it with recomputed totals", async () => {
    await createCluster('add-c1');
    const node = sampleNode('node-3', 'add-c1');
    const res = await gw.request('POST', '/nodes/add-node-to-cluster/add-c1', node);
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);

    const sent = fake.receivedOn('/cluster-actions/add-node');
    expect(sent).toHaveLength(1);
    expect(sent[0].method).toBe('POST');
    expect(sent[0].body).toEqual(node);

    const { clusterId: _c, ...entry } = node;
    expect(res.body.data.nodes.nodeData.map((x: any) => x.id)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(res.body.data.nodes.nodeData[2]).toEqual(entry);
    expect(res.body.data.nodes.count).toBe(3);
    expect(res.body.data.gpus).toMatchObject({ count: 5, memory: 81920 });
    expectTotalsAreSums(res.body.data);
    expect(res.headers.get('etag')).toBe(`"${res.body.data.version}"`);
    const stored = await read('add-c1');
    expect(stored).toEqual(res.body.data);
  });

  it('400 naming id for {} and nothing is forwarded; 400 for a clusterId that is not the path one', async () => {
    await createCluster('add-c2');
    const empty = await gw.request('POST', '/nodes/add-node-to-cluster/add-c2', {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.field).toBe('id');
    const other = await gw.request('POST', '/nodes/add-node-to-cluster/add-c2', sampleNode('node-3', 'another-cluster'));
    expect(other.status).toBe(400);
    expect(other.body.error.details.field).toBe('clusterId');
    const badType = await gw.request('POST', '/nodes/add-node-to-cluster/add-c2', { id: 'node-3', gpus: { count: -1 } });
    expect(badType.status).toBe(400);
    expect(badType.body.error.details.field).toBe('gpus.count');
    expect(fake.received).toHaveLength(0);
    expect((await read('add-c2')).version).toBe(1);
  });

  it('404 for an unknown cluster; 409 for a node id already in the cluster; nothing forwarded', async () => {
    const unknown = await gw.request('POST', '/nodes/add-node-to-cluster/no-such-cluster', sampleNode('node-3', 'no-such-cluster'));
    expect(unknown.status).toBe(404);
    await createCluster('add-c3');
    const dup = await gw.request('POST', '/nodes/add-node-to-cluster/add-c3', sampleNode('node-1', 'add-c3'));
    expect(dup.status).toBe(409);
    expect(dup.body.error.details.field).toBe('id');
    expect(fake.received).toHaveLength(0);
  });

  it('a concurrent add of the same node id: one wins, the other gets 409, the node is stored once', async () => {
    await createCluster('add-race');
    fake.delay('/cluster-actions/add-node', 100);
    const [a, b] = await Promise.all([
      gw.request('POST', '/nodes/add-node-to-cluster/add-race', sampleNode('node-9', 'add-race')),
      gw.request('POST', '/nodes/add-node-to-cluster/add-race', sampleNode('node-9', 'add-race')),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    // Both passed the early check and reached the controller: the 409 came from the re-check in the transaction.
    expect(fake.receivedOn('/cluster-actions/add-node')).toHaveLength(2);
    const stored = await read('add-race');
    expect(stored.nodes.nodeData.filter((x: any) => x.id === 'node-9')).toHaveLength(1);
    expectTotalsAreSums(stored);
  });
});

describe('§8.2 remove node', () => {
  it('GET (spec) and DELETE reach DELETE /cluster-actions/remove-node/<id>; totals stay the sums through adds and removes', async () => {
    await createCluster('rm-c1');
    const steps: Array<[string, string, object?]> = [
      ['POST', '/nodes/add-node-to-cluster/rm-c1', sampleNode('node-3', 'rm-c1')],
      ['POST', '/nodes/add-node-to-cluster/rm-c1', { ...sampleNode('node-4', 'rm-c1'), memory: 7, gpus: { count: 1, memory: 8 } }],
      ['GET', '/nodes/remove-node-from-cluster/rm-c1/node-1'],
      ['DELETE', '/nodes/remove-node-from-cluster/rm-c1/node-3'],
      ['POST', '/nodes/add-node-to-cluster/rm-c1', { id: 'node-5' }],
      ['GET', '/nodes/remove-node-from-cluster/rm-c1/node-2'],
    ];
    for (const [method, path, body] of steps) {
      const res = await gw.request(method, path, body);
      expect(res.status).toBe(200);
      expectTotalsAreSums(res.body.data);
    }
    const stored = await read('rm-c1');
    expect(stored.nodes.nodeData.map((x: any) => x.id)).toEqual(['node-4', 'node-5']);
    expect(stored).toMatchObject({ nodes: { count: 2 }, memory: 7, gpus: { count: 1, memory: 8 }, swap: 8192 });
    expectTotalsAreSums(stored);
    const removes = fake.received.filter((r) => r.path.startsWith('/cluster-actions/remove-node/'));
    expect(removes.map((r) => `${r.method} ${r.path}`)).toEqual([
      'DELETE /cluster-actions/remove-node/node-1',
      'DELETE /cluster-actions/remove-node/node-3',
      'DELETE /cluster-actions/remove-node/node-2',
    ]);
    expect(fake.receivedOn('/cluster-actions/add-node')).toHaveLength(3);
  });

  it('404 for an unknown node or cluster, nothing forwarded', async () => {
    await createCluster('rm-c2');
    for (const [method, path] of [
      ['GET', '/nodes/remove-node-from-cluster/rm-c2/node-77'],
      ['DELETE', '/nodes/remove-node-from-cluster/rm-c2/node-77'],
      ['GET', '/nodes/remove-node-from-cluster/no-such-cluster/node-1'],
    ]) {
      const res = await gw.request(method, path);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    expect(fake.received).toHaveLength(0);
  });
});

describe('pre-checks on node add and remove', () => {
  it('add_node gets exactly {node_data, cluster_data, cluster_metrics}; a denial is 403 and nothing is forwarded', async () => {
    await createCluster('pc-c1');
    await setMap({ add_node: 'test.nodes.recorder:v1' });
    try {
      const node = sampleNode('node-3', 'pc-c1');
      const res = await gw.request('POST', '/nodes/add-node-to-cluster/pc-c1', node);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('PRECHECK_DENIED');
      const { keys, input } = res.body.error.details.reason;
      expect(keys).toEqual(['cluster_data', 'cluster_metrics', 'node_data']);
      expect(input.node_data).toEqual(node);
      expect(input.cluster_data).toMatchObject({ id: 'pc-c1', version: 1, nodes: { count: 2 } });
      expect(input.cluster_metrics).toBeNull();
      expect(fake.received).toHaveLength(0);
      expect((await read('pc-c1')).nodes.count).toBe(2);
    } finally {
      await setMap({ add_node: '' });
    }
  });

  it('remove_node gets exactly {node_id, cluster_data, cluster_metrics, block_instances}, block ids read from the latest metrics', async () => {
    await createCluster('pc-c2');
    const report = await gw.request('POST', '/cluster-metrics/pc-c2/report', {
      cluster: { vcpu: { load15m: 1 } },
      nodes: [
        { id: 'node-1', vcpu: { load15m: 1 }, instances: [{ blockId: 'blk-a', instanceId: 'i1' }, { blockId: 'blk-b', instanceId: 'i2' }] },
        { id: 'node-2', vcpu: { load15m: 1 }, instances: [{ blockId: 'blk-c', instanceId: 'i3' }] },
      ],
    });
    expect(report.status).toBe(200);
    await setMap({ remove_node: 'test.nodes.recorder:v1' });
    try {
      const res = await gw.request('GET', '/nodes/remove-node-from-cluster/pc-c2/node-1');
      expect(res.status).toBe(403);
      const { keys, input } = res.body.error.details.reason;
      expect(keys).toEqual(['block_instances', 'cluster_data', 'cluster_metrics', 'node_id']);
      expect(input.node_id).toBe('node-1');
      expect(input.block_instances).toEqual(['blk-a', 'blk-b']);
      expect(input.cluster_data.id).toBe('pc-c2');
      expect(input.cluster_metrics).toMatchObject({ cluster_id: 'pc-c2', cluster: { vcpu: { load15m: 1 } } });
      expect(fake.received).toHaveLength(0);
      expect((await read('pc-c2')).nodes.count).toBe(2);
    } finally {
      await setMap({ remove_node: '' });
    }
  });

  it('a rewriting add_node rule changes what is forwarded and what is stored', async () => {
    await createCluster('pc-c3');
    await setMap({ add_node: 'test.nodes.rewriter:v1' });
    try {
      const res = await gw.request('POST', '/nodes/add-node-to-cluster/pc-c3', sampleNode('node-3', 'pc-c3'));
      expect(res.status).toBe(200);
      const sent = fake.receivedOn('/cluster-actions/add-node')[0].body;
      expect(sent).toMatchObject({ id: 'node-3', clusterId: 'pc-c3', memory: 1000, tags: ['gpu', 'fp16', 'production', 'policy-checked'], nodeMetadata: { checkedBy: 'rule' } });
      const stored = (await read('pc-c3')).nodes.nodeData.find((x: any) => x.id === 'node-3');
      expect(stored).toMatchObject({ memory: 1000, tags: ['gpu', 'fp16', 'production', 'policy-checked'], nodeMetadata: { checkedBy: 'rule', vendor: 'Supermicro' } });
      expect(stored.clusterId).toBeUndefined();
      expect(res.body.data.memory).toBe(131072 + 65536 + 1000);
      expectTotalsAreSums(res.body.data);
    } finally {
      await setMap({ add_node: '' });
    }
  });

  it('a remove_node rule may rewrite node_id: the returned id is removed, or 404 if it names no node', async () => {
    await createCluster('pc-c4');
    await setMap({ remove_node: { policyRuleURI: 'test.nodes.id-rewriter:v1', parameters: { to: 'node-2' } } });
    try {
      const res = await gw.request('DELETE', '/nodes/remove-node-from-cluster/pc-c4/node-1');
      expect(res.status).toBe(200);
      expect(res.body.data.nodes.nodeData.map((x: any) => x.id)).toEqual(['node-1']);
      expect(fake.received.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /cluster-actions/remove-node/node-2']);
      expectTotalsAreSums(res.body.data);

      fake.reset();
      await setMap({ remove_node: { policyRuleURI: 'test.nodes.id-rewriter:v1', parameters: { to: 'ghost' } } });
      const ghost = await gw.request('DELETE', '/nodes/remove-node-from-cluster/pc-c4/node-1');
      expect(ghost.status).toBe(404);
      expect(fake.received).toHaveLength(0);
    } finally {
      await setMap({ remove_node: '' });
    }
  });
});

describe('upstream failures', () => {
  it('controller down: 502 and the entry is unchanged', async () => {
    const created = await createCluster('up-c1');
    fake.fail('/cluster-actions/add-node', 500);
    const add = await gw.request('POST', '/nodes/add-node-to-cluster/up-c1', sampleNode('node-3', 'up-c1'));
    expect(add.status).toBe(502);
    expect(add.body.error.code).toBe('UPSTREAM_ERROR');
    fake.fail('/cluster-actions/remove-node/node-1', 500);
    const rm = await gw.request('GET', '/nodes/remove-node-from-cluster/up-c1/node-1');
    expect(rm.status).toBe(502);
    const after = await read('up-c1');
    expect(after.version).toBe(created.version);
    expect(after.nodes).toEqual(created.nodes);
  });

  it('controller hanging: 504 within about a second while /healthz answers fast', async () => {
    const created = await createCluster('up-c2');
    fake.hang('/cluster-actions/add-node');
    const started = Date.now();
    const pending = gw.request('POST', '/nodes/add-node-to-cluster/up-c2', sampleNode('node-3', 'up-c2'));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const health = await gw.request('GET', '/healthz');
    const healthMs = Date.now() - t0;
    const res = await pending;
    const elapsed = Date.now() - started;
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(300);
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('UPSTREAM_TIMEOUT');
    expect(elapsed).toBeLessThan(1500);
    expect((await read('up-c2')).version).toBe(created.version);
  });

  it('a cluster without a controller URL: 409 CLUSTER_INFRA_NOT_READY, nothing stored', async () => {
    const res = await gw.request('POST', '/clusters/create', sampleCluster('up-noinfra'));
    expect(res.status).toBe(200);
    const add = await gw.request('POST', '/nodes/add-node-to-cluster/up-noinfra', sampleNode('node-3', 'up-noinfra'));
    expect(add.status).toBe(409);
    expect(add.body.error.code).toBe('CLUSTER_INFRA_NOT_READY');
    expect((await read('up-noinfra')).nodes.count).toBe(2);
  });
});
