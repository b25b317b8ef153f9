import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { registerJsRule, sampleNode, startFakeCluster, startTestGateway, type FakeCluster, type TestGateway, RECORDING_RULE, setPrecheckMap, createClusterAt } from '@ccg/testkit';

/** add_node: tags the node; remove_node: redirects to parameters.to. */
const REWRITER = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    if (inputData.node_data) inputData.node_data.tags = ['membership-checked'];
    if (inputData.node_id) inputData.node_id = parameters.to || inputData.node_id;
    return { allowed: true, input_data: inputData };
  }
}`;

let gw: TestGateway;
let fake: FakeCluster;
const CID = 'mem-c1';

const setMap = (body: object) => setPrecheckMap(gw, body);

beforeAll(async () => {
  fake = await startFakeCluster();
  gw = await startTestGateway({ worker: false, env: { CLUSTER_CLIENT_TIMEOUT_MS: '500' } });
  await createClusterAt(gw, CID, fake.urlMap);
  await registerJsRule(gw, 'test.membership.recorder:v1', RECORDING_RULE);
  await registerJsRule(gw, 'test.membership.rewriter:v1', REWRITER);
});
afterAll(async () => {
  await gw.close();
  await fake.close();
});
beforeEach(() => fake.reset());

describe('membership proxies forward the documented bodies', () => {
  it('POST /pre-checks/add-node/:clusterId → POST /pre-checks/add-node with the node data and cluster_id', async () => {
    const node = sampleNode('node-7', CID);
    const res = await gw.request('POST', `/pre-checks/add-node/${CID}`, node);
    expect(res.status).toBe(200);
    expect(fake.received.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /pre-checks/add-node']);
    expect(fake.received[0].body).toEqual({ ...node, cluster_id: CID });
    expect(res.body).toEqual({ success: true, data: { allowed: true, node_data: { ...node, cluster_id: CID }, success: true } });
  });

  it('POST /join-node/:clusterId → POST /join-node with {node_data, mode, custom_ip?}', async () => {
    const node = sampleNode('node-7', CID);
    const res = await gw.request('POST', `/join-node/${CID}`, { node_data: node });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ success: true, result: { success: true, join_command: expect.stringContaining('kubeadm join') } });
    await gw.request('POST', `/join-node/${CID}`, { node_data: node, mode: 'custom_ip', custom_ip: '10.0.0.7' });
    await gw.request('POST', `/join-node/${CID}`, { node_data: node, mode: 'public_ip', custom_ip: '' });
    const sent = fake.receivedOn('/join-node');
    expect(sent.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    expect(sent.map((r) => r.body)).toEqual([
      { node_data: { ...node, cluster_id: CID }, mode: 'local_network' },
      { node_data: { ...node, cluster_id: CID }, mode: 'custom_ip', custom_ip: '10.0.0.7' },
      { node_data: { ...node, cluster_id: CID }, mode: 'public_ip' },
    ]);
  });

  it('POST /pre-checks/remove-node and /remove-node → the same paths with {node_id}', async () => {
    const pre = await gw.request('POST', `/pre-checks/remove-node/${CID}`, { node_id: 'node-1' });
    expect(pre.status).toBe(200);
    expect(pre.body.data).toEqual({ allowed: true, node_id: 'node-1', success: true });
    const rm = await gw.request('POST', `/remove-node/${CID}`, { node_id: 'node-1' });
    expect(rm.status).toBe(200);
    expect(rm.body.data).toEqual({ result: { success: true, message: 'node node-1 removed' }, success: true });
    expect(fake.received.map((r) => [`${r.method} ${r.path}`, r.body])).toEqual([
      ['POST /pre-checks/remove-node', { node_id: 'node-1' }],
      ['POST /remove-node', { node_id: 'node-1' }],
    ]);
  });

  it('GET /sync-cluster/:clusterId → GET /sync-cluster (the original wrongly POSTed)', async () => {
    const res = await gw.request('GET', `/sync-cluster/${CID}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: { success: true, message: 'cluster synced' } });
    expect(fake.received.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /sync-cluster']);
    expect(fake.received[0].body).toBeUndefined();
  });
});

describe('membership input checks', () => {
  it('400 naming the field, nothing forwarded', async () => {
    for (const [path, body, field] of [
      [`/pre-checks/add-node/${CID}`, {}, 'id'],
      [`/pre-checks/add-node/${CID}`, { ...sampleNode('n1', CID), cluster_id: 'elsewhere' }, 'cluster_id'],
      [`/join-node/${CID}`, {}, 'node_data'],
      [`/join-node/${CID}`, { node_data: {} }, 'node_data.id'],
      [`/join-node/${CID}`, { node_data: sampleNode('n1', 'elsewhere') }, 'node_data.clusterId'],
      [`/join-node/${CID}`, { node_data: sampleNode('n1', CID), mode: 3 }, 'mode'],
      [`/pre-checks/remove-node/${CID}`, {}, 'node_id'],
      [`/remove-node/${CID}`, {}, 'node_id'],
      [`/remove-node/${CID}`, { node_id: '' }, 'node_id'],
    ] as const) {
      const res = await gw.request('POST', path, body);
      expect([path, res.status, res.body.error.details.field]).toEqual([path, 400, field]);
    }
    expect(fake.received).toHaveLength(0);
  });

  it('404 for an unknown cluster, nothing forwarded', async () => {
    for (const [method, path, body] of [
      ['POST', '/pre-checks/add-node/nope', sampleNode('n1', 'nope')],
      ['POST', '/join-node/nope', { node_data: sampleNode('n1', 'nope') }],
      ['POST', '/pre-checks/remove-node/nope', { node_id: 'n1' }],
      ['POST', '/remove-node/nope', { node_id: 'n1' }],
      ['GET', '/sync-cluster/nope', undefined],
    ] as const) {
      expect((await gw.request(method, path, body)).status).toBe(404);
    }
    expect(fake.received).toHaveLength(0);
  });

  it('membership server errors are 502 with the upstream body kept', async () => {
    fake.fail('/join-node', 500);
    const res = await gw.request('POST', `/join-node/${CID}`, { node_data: sampleNode('n1', CID) });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('UPSTREAM_ERROR');
    expect(res.body.error.details.upstream_body).toMatchObject({ success: false });
  });
});

describe('membership pre-checks', () => {
  it('add_node and remove_node get the spec input dicts; a denial is 403 PRECHECK_DENIED and nothing is forwarded', async () => {
    await setMap({ add_node: 'test.membership.recorder:v1', remove_node: 'test.membership.recorder:v1' });
    try {
      const add = await gw.request('POST', `/join-node/${CID}`, { node_data: sampleNode('n1', CID) });
      expect(add.status).toBe(403);
      expect(add.body.error.code).toBe('PRECHECK_DENIED');
      expect(add.body.error.details.reason.keys).toEqual(['cluster_data', 'cluster_metrics', 'node_data']);
      expect(add.body.error.details.reason.input.node_data).toEqual({ ...sampleNode('n1', CID), cluster_id: CID });
      const pre = await gw.request('POST', `/pre-checks/add-node/${CID}`, sampleNode('n1', CID));
      expect(pre.status).toBe(403);

      const rm = await gw.request('POST', `/remove-node/${CID}`, { node_id: 'node-2' });
      expect(rm.status).toBe(403);
      expect(rm.body.error.details.reason.keys).toEqual(['block_instances', 'cluster_data', 'cluster_metrics', 'node_id']);
      expect(rm.body.error.details.reason.input).toMatchObject({ node_id: 'node-2', block_instances: [], cluster_metrics: null, cluster_data: { id: CID } });
      expect((await gw.request('POST', `/pre-checks/remove-node/${CID}`, { node_id: 'node-2' })).status).toBe(403);
      expect(fake.received).toHaveLength(0);
    } finally {
      await setMap({ add_node: '', remove_node: '' });
    }
  });

  it("forwards the rule's rewritten node data (join-node included) and node id", async () => {
    await setMap({ add_node: 'test.membership.rewriter:v1', remove_node: { policyRuleURI: 'test.membership.rewriter:v1', parameters: { to: 'node-2' } } });
    try {
      expect((await gw.request('POST', `/pre-checks/add-node/${CID}`, sampleNode('n1', CID))).status).toBe(200);
      expect((await gw.request('POST', `/join-node/${CID}`, { node_data: sampleNode('n1', CID) })).status).toBe(200);
      expect((await gw.request('POST', `/remove-node/${CID}`, { node_id: 'node-1' })).status).toBe(200);
      expect(fake.receivedOn('/pre-checks/add-node')[0].body.tags).toEqual(['membership-checked']);
      expect(fake.receivedOn('/join-node')[0].body.node_data).toMatchObject({ id: 'n1', cluster_id: CID, tags: ['membership-checked'] });
      expect(fake.receivedOn('/remove-node')[0].body).toEqual({ node_id: 'node-2' });
    } finally {
      await setMap({ add_node: '', remove_node: '' });
    }
  });
});
