import { startFakeCluster, type FakeCluster } from '@ccg/testkit';
import {
  ClusterClient,
  ClusterInfraNotReadyError,
  UpstreamError,
  UpstreamTimeoutError,
  type ClusterDocument,
} from '../src/index.js';

let fake: FakeCluster;
let cluster: ClusterDocument;
let urlMap: Record<string, string>;
const client = new ClusterClient({ timeoutMs: 2_000, retryDelayMs: 10 });

beforeAll(async () => {
  fake = await startFakeCluster();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  urlMap = { ...fake.urlMap };
  cluster = { id: 'c1', config: { urlMap } };
});

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('ClusterClient: wire formats', () => {
  test('executeAction sends the flat body {action, ...fields} and returns data', async () => {
    const data = await client.executeAction(cluster, 'remove_instance', { block_id: 'b1', instance_id: 'i1' });
    expect(data).toBe('Action performed');
    expect(fake.receivedOn('/executeAction')).toEqual([
      { method: 'POST', path: '/executeAction', body: { action: 'remove_instance', block_id: 'b1', instance_id: 'i1' } },
    ]);
  });

  test('the action argument wins over an action field', async () => {
    await client.executeAction(cluster, 'scale', { action: 'remove_block', block_id: 'b1' });
    expect(fake.received[0].body).toEqual({ action: 'scale', block_id: 'b1' });
  });

  test('dry_run returns the policy output', async () => {
    const data = await client.executeAction(cluster, 'dry_run', { policy_rule_uri: 'p:1.0-stable', inputs: {} });
    expect(data).toEqual({ selection_score_data: { score: 0.5, node_info: { node_id: 'node-1', gpus: [0] } } });
  });

  test('clusterMetrics unwraps {success, data}', async () => {
    const m = await client.clusterMetrics(cluster);
    expect(Object.keys(m).sort()).toEqual(['cluster_metrics', 'node_metrics']);
    expect(m.node_metrics.map((n: any) => n.id)).toEqual(['node-1', 'node-2']);
    expect((m.cluster_metrics as any).vcpu.load15m).toBeCloseTo(0.6);
    fake.setMetrics({ cluster_metrics: { vcpu: { load15m: 9 } }, node_metrics: [] });
    expect(await client.clusterMetrics(cluster)).toEqual({ cluster_metrics: { vcpu: { load15m: 9 } }, node_metrics: [] });
    expect(fake.received.every((r) => r.method === 'GET' && r.path === '/cluster' && r.body === undefined)).toBe(true);
  });

  test('nodeMetrics returns the stored node documents', async () => {
    const docs = (await client.nodeMetrics(cluster, 'node-2')) as any[];
    expect(docs).toHaveLength(1);
    expect(docs[0].nodeId).toBe('node-2');
    expect(docs[0].metrics.resource.node.gpu.count).toBe(2);
    expect(fake.received[0].path).toBe('/node/node-2');
  });

  test('vdagController passes the upstream status and body through', async () => {
    const created = await client.vdagController(cluster, { action: 'create_controller', payload: { vdag_controller_id: 'v1', vdag_uri: 'a:1.0-s' } });
    expect(created).toEqual({ status: 200, body: { success: true, data: 'Controller created successfully' } });
    const bad = await client.vdagController(cluster, { action: 'create_controller', payload: {} });
    expect(bad).toEqual({ status: 400, body: { success: false, message: 'Missing required parameters' } });
  });

  test('vdagController still maps a non-JSON reply and a timeout', async () => {
    fake.respond('/vdag-controller', { status: 500, body: '<html>KeyError</html>' });
    const err = await rejection(client.vdagController(cluster, { action: 'list_controllers', payload: {} }));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.details.upstream_body).toBe('<html>KeyError</html>');
    fake.hang('/vdag-controller');
    const slow = new ClusterClient({ timeoutMs: 200 });
    expect(await rejection(slow.vdagController(cluster, { action: 'list_controllers' }))).toBeInstanceOf(UpstreamTimeoutError);
  });

  test('addNode, removeNode, mgmt and membership hit the right paths', async () => {
    await client.addNode(cluster, { id: 'node-3', memory: 1024 });
    await client.removeNode(cluster, 'node 3');
    const mgmt = { block_id: 'b1', service: 'executor', mgmt_action: 'get', mgmt_data: {}, instance_id: '' };
    expect(await client.mgmt(cluster, mgmt)).toEqual({ received: mgmt });
    expect(await client.membership(cluster, '/pre-checks/add-node', { id: 'node-3' })).toEqual({
      allowed: true,
      node_data: { id: 'node-3' },
      success: true,
    });
    await client.membership(cluster, 'sync-cluster', undefined, 'GET');
    expect(fake.received.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /cluster-actions/add-node',
      'DELETE /cluster-actions/remove-node/node%203',
      'POST /mgmt',
      'POST /pre-checks/add-node',
      'GET /sync-cluster',
    ]);
    expect(fake.received[0].body).toEqual({ id: 'node-3', memory: 1024 });
    expect(fake.received[2].body).toEqual(mgmt);
  });
});

describe('ClusterClient: failures', () => {
  test('an upstream 500 is a 502 UpstreamError with the upstream status and body', async () => {
    const err = await rejection(client.executeAction(cluster, 'no_such_action', {}));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.status).toBe(502);
    expect(err.code).toBe('UPSTREAM_ERROR');
    expect(err.message).toContain('Unknown action: no_such_action');
    expect(err.details).toMatchObject({
      service: 'controllerService',
      url: `${fake.url}/executeAction`,
      upstream_status: 500,
      upstream_body: { success: false, data: 'Unknown action: no_such_action' },
    });
  });

  test('success:false inside a 200 is a 502', async () => {
    fake.respond('/mgmt', { status: 200, body: { success: false, message: 'policy exploded' } });
    const err = await rejection(client.mgmt(cluster, { block_id: 'b1' }));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.status).toBe(502);
    expect(err.details).toMatchObject({ upstream_status: 200, upstream_body: { success: false, message: 'policy exploded' } });
  });

  test('a 200 that is not JSON is a 502', async () => {
    fake.respond('/cluster', { status: 200, body: 'hello' });
    const err = await rejection(client.clusterMetrics(cluster));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.details).toMatchObject({ upstream_status: 200, upstream_body: 'hello' });
  });

  test('connection refused is a 502', async () => {
    const gone = await startFakeCluster();
    await gone.close();
    const c = { id: 'c2', config: { urlMap: gone.urlMap } };
    const err = await rejection(new ClusterClient({ retries: 0 }).executeAction(c, 'scale', {}));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.status).toBe(502);
    expect(err.details.upstream_status).toBeNull();
    expect(err.details.cause).toContain('ECONNREFUSED');
  });

  test('a hanging endpoint is a 504 UpstreamTimeoutError within the timeout', async () => {
    fake.hang('/executeAction');
    const c = new ClusterClient({ timeoutMs: 300 });
    const started = Date.now();
    const err = await rejection(c.executeAction(cluster, 'scale', { block_id: 'b1' }));
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(UpstreamTimeoutError);
    expect(err.status).toBe(504);
    expect(err.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.details).toMatchObject({ url: `${fake.url}/executeAction`, timeout_ms: 300 });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_000);
  });

  test('create_block and remove_block get the long timeout', async () => {
    const c = new ClusterClient({ timeoutMs: 100, longTimeoutMs: 2_000 });
    fake.delay('create_block', 300);
    fake.delay('scale', 300);
    expect(await c.executeAction(cluster, 'create_block', { block_data: { id: 'b1' } })).toBe('Action performed');
    expect(await rejection(c.executeAction(cluster, 'scale', {}))).toBeInstanceOf(UpstreamTimeoutError);
    expect(await c.executeAction(cluster, 'scale', {}, { long: true })).toBe('scaled instances');
  });
});

describe('ClusterClient: retries', () => {
  test('a GET is retried after 5xx and succeeds', async () => {
    fake.fail('/cluster', 503, 2);
    const m = await client.clusterMetrics(cluster);
    expect(m.node_metrics).toHaveLength(2);
    expect(fake.receivedOn('/cluster')).toHaveLength(3);
  });

  test('a GET gives up after retries + 1 attempts', async () => {
    fake.fail('/cluster', 500);
    const err = await rejection(client.clusterMetrics(cluster));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.details.attempts).toBe(3);
    expect(fake.receivedOn('/cluster')).toHaveLength(3);
  });

  test('a GET is retried after a timeout', async () => {
    fake.hang('/node/node-1');
    const c = new ClusterClient({ timeoutMs: 200, retryDelayMs: 0 });
    const err = await rejection(c.nodeMetrics(cluster, 'node-1'));
    expect(err).toBeInstanceOf(UpstreamTimeoutError);
    expect(err.details.attempts).toBe(3);
    expect(fake.receivedOn('/node/node-1')).toHaveLength(3);
  });

  test('a GET is not retried on 4xx', async () => {
    fake.fail('/node/x', 404);
    await rejection(client.nodeMetrics(cluster, 'x'));
    expect(fake.receivedOn('/node/x')).toHaveLength(1);
  });

  test('POST and DELETE are never retried', async () => {
    fake.fail('/executeAction', 503);
    fake.fail('/cluster-actions/remove-node/n1', 503);
    await rejection(client.executeAction(cluster, 'scale', {}));
    await rejection(client.removeNode(cluster, 'n1'));
    expect(fake.received).toHaveLength(2);
  });
});

describe('ClusterClient: URLs', () => {
  test('a missing urlMap key is a 409 naming it, and nothing is sent', async () => {
    const { controllerService: _gone, ...rest } = fake.urlMap;
    const err = await rejection(client.executeAction({ id: 'c9', config: { urlMap: rest } }, 'scale', {}));
    expect(err).toBeInstanceOf(ClusterInfraNotReadyError);
    expect(err.status).toBe(409);
    expect(err.code).toBe('CLUSTER_INFRA_NOT_READY');
    expect(err.message).toContain('c9');
    expect(err.message).toContain('config.urlMap.controllerService');
    expect(fake.received).toHaveLength(0);
  });

  test.each([
    ['no config', { id: 'c9' }],
    ['no urlMap', { id: 'c9', config: {} }],
    ['null value', { id: 'c9', config: { urlMap: { metricsService: null } } }],
    ['"undefined"', { id: 'c9', config: { urlMap: { metricsService: 'undefined' } } }],
    ['not http', { id: 'c9', config: { urlMap: { metricsService: 'ftp://host/x' } } }],
    ['a number', { id: 'c9', config: { urlMap: { metricsService: 42 } } }],
  ])('%s is a 409', async (_name, doc) => {
    const err = await rejection(client.clusterMetrics(doc as ClusterDocument));
    expect(err).toBeInstanceOf(ClusterInfraNotReadyError);
    expect(err.message).toContain('config.urlMap.metricsService');
  });

  test('trailing slashes are stripped from base URLs', async () => {
    urlMap.controllerService = `${fake.url}///`;
    urlMap.metricsService = `${fake.url}/`;
    await client.executeAction(cluster, 'scale', {});
    await client.clusterMetrics(cluster);
    expect(fake.received.map((r) => r.path)).toEqual(['/executeAction', '/cluster']);
  });

  test('a base URL with a path prefix keeps it', async () => {
    urlMap.controllerService = `${fake.url}/controller/`;
    const err = await rejection(client.executeAction(cluster, 'scale', {}));
    expect(err.details).toMatchObject({ url: `${fake.url}/controller/executeAction`, upstream_status: 404 });
    expect(fake.received[0].path).toBe('/controller/executeAction');
  });
});
