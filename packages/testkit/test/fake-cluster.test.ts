import { startFakeCluster, type FakeCluster } from '../src/fake-cluster.js';

let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(fake.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body), // strings go raw
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}

test('urlMap points every service at the server', () => {
  expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(Object.keys(fake.urlMap).sort()).toEqual(
    ['blocksQuery', 'controllerService', 'membershipServer', 'metricsService', 'parameterUpdater', 'publicGateway'],
  );
  expect(new Set(Object.values(fake.urlMap))).toEqual(new Set([fake.url]));
});

test('records methods, paths and parsed bodies', async () => {
  await call('POST', '/executeAction', { action: 'create_block', block_data: { id: 'b1' } });
  await call('GET', '/cluster');
  await call('POST', '/mgmt', 'not json{');
  expect(fake.received).toEqual([
    { method: 'POST', path: '/executeAction', body: { action: 'create_block', block_data: { id: 'b1' } } },
    { method: 'GET', path: '/cluster', body: undefined },
    { method: 'POST', path: '/mgmt', body: undefined },
  ]);
  expect(fake.receivedOn('/cluster')).toHaveLength(1);
  expect(fake.receivedOn('create_block')).toHaveLength(1);
});

test('default controller replies', async () => {
  expect(await call('POST', '/executeAction', { action: 'create_block' })).toMatchObject({
    status: 200,
    body: { success: true, data: 'Action performed' },
  });
  expect((await call('POST', '/executeAction', { action: 'dry_run' })).body.data).toEqual({
    selection_score_data: { score: 0.5, node_info: { node_id: 'node-1', gpus: [0] } },
  });
  expect(await call('POST', '/executeAction', { action: 'X' })).toMatchObject({
    status: 500,
    body: { success: false, data: 'Unknown action: X' },
  });
  const created = await call('POST', '/vdag-controller', { action: 'create_controller', payload: { vdag_controller_id: 'v1', vdag_uri: 'u' } });
  expect(created.body).toEqual({ success: true, data: 'Controller created successfully' });
  expect((await call('POST', '/vdag-controller', { action: 'list_controllers', payload: {} })).body.data).toEqual(['v1']);
  expect((await call('POST', '/cluster-actions/add-node', { id: 'n3' })).body.success).toBe(true);
  expect((await call('DELETE', '/cluster-actions/remove-node/n3')).body.success).toBe(true);
  expect((await call('POST', '/mgmt', { block_id: 'b' })).body).toEqual({ success: true, data: { received: { block_id: 'b' } } });
});

test('default metrics and membership replies', async () => {
  const cluster = await call('GET', '/cluster');
  expect(cluster.body.success).toBe(true);
  const { cluster_metrics, node_metrics } = cluster.body.data;
  expect(node_metrics.map((n: any) => n.id)).toEqual(['node-1', 'node-2']);
  expect(cluster_metrics.vcpu.load15m).toBeCloseTo(0.6); // averaged
  expect(cluster_metrics.gpu.totalFreeMem).toBe(32768 * 2 - 2048 - 8192); // summed
  expect(cluster_metrics.storage['disks.memory.maxDisk']).toBe(250000);
  expect(cluster_metrics.gpus['[0].gpu_id']).toBe(0);
  const node = await call('GET', '/node/node-1');
  expect(node.body.data[0]).toMatchObject({ nodeId: 'node-1', type: 'hardware', metrics: { resource: { node: { id: 'node-1' } } } });
  expect((await call('GET', '/node/nope')).body).toEqual({ success: true, data: [] });

  fake.setMetrics({ cluster_metrics: { memory: { freeMem: 1 } }, node_metrics: [] });
  expect((await call('GET', '/cluster')).body.data).toEqual({ cluster_metrics: { memory: { freeMem: 1 } }, node_metrics: [] });

  expect((await call('POST', '/pre-checks/add-node', { id: 'n3' })).body).toEqual({ allowed: true, node_data: { id: 'n3' }, success: true });
  expect((await call('POST', '/join-node', { node_data: { id: 'n3' } })).body.result.join_command).toMatch(/^kubeadm join/);
  expect((await call('POST', '/pre-checks/remove-node', { node_id: 'n3' })).body).toEqual({ allowed: true, node_id: 'n3', success: true });
  expect((await call('POST', '/remove-node', { node_id: 'n3' })).body.success).toBe(true);
  expect((await call('GET', '/sync-cluster')).status).toBe(200);
  expect((await call('POST', '/sync-cluster')).status).toBe(405);
  expect((await call('GET', '/nowhere')).status).toBe(404);
});

test('respond overrides a path or an action; a function can count', async () => {
  fake.respond('/mgmt', { status: 418, body: { teapot: true } });
  fake.respond('scale', { status: 200, body: '<html>raw</html>' });
  expect(await call('POST', '/mgmt', {})).toMatchObject({ status: 418, body: { teapot: true } });
  expect(await call('POST', '/executeAction', { action: 'scale' })).toMatchObject({ status: 200, text: '<html>raw</html>' });
  expect((await call('POST', '/executeAction', { action: 'remove_block' })).body.data).toBe('Action performed');

  fake.respond('/cluster', (_req, hit) => (hit === 2 ? { status: 502, body: { hit } } : undefined));
  expect((await call('GET', '/cluster')).status).toBe(200);
  expect(await call('GET', '/cluster')).toMatchObject({ status: 502, body: { hit: 2 } });
  expect((await call('GET', '/cluster')).status).toBe(200);
});

test('fail, with and without a count', async () => {
  fake.fail('/cluster');
  expect((await call('GET', '/cluster')).status).toBe(500);
  expect((await call('GET', '/cluster')).body.success).toBe(false);
  fake.fail('remove_block', 503, 1);
  expect((await call('POST', '/executeAction', { action: 'remove_block' })).status).toBe(503);
  expect((await call('POST', '/executeAction', { action: 'remove_block' })).status).toBe(200);
});

test('delay slows a reply down', async () => {
  fake.delay('/cluster', 250);
  const started = Date.now();
  expect((await call('GET', '/cluster')).status).toBe(200);
  expect(Date.now() - started).toBeGreaterThanOrEqual(240);
});

test('hang never answers; close() still ends', async () => {
  const own = await startFakeCluster();
  own.hang('/executeAction');
  const pending = fetch(`${own.url}/executeAction`, { method: 'POST', body: '{}' }).then(
    () => 'answered',
    () => 'failed',
  );
  const first = await Promise.race([pending, new Promise((r) => setTimeout(() => r('still waiting'), 300))]);
  expect(first).toBe('still waiting');
  expect(own.received).toHaveLength(1);
  await own.close();
  expect(await pending).toBe('failed');
});

test('reset forgets overrides, requests and metrics', async () => {
  fake.fail('/cluster');
  fake.setMetrics({ cluster_metrics: {}, node_metrics: [] });
  await call('GET', '/cluster');
  fake.reset();
  expect(fake.received).toHaveLength(0);
  const res = await call('GET', '/cluster');
  expect(res.status).toBe(200);
  expect(res.body.data.node_metrics).toHaveLength(2);
});
