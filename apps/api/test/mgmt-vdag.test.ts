import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BlockRepository } from '@ccg/db';
import { startFakeCluster, startTestGateway, type FakeCluster, type TestGateway, RECORDING_RULE, registerJsRule, setPrecheckMap, createClusterAt, DENY_RULE_URI } from '@ccg/testkit';

/** block_mgmt / cluster_mgmt: clamps a set_iou value to at most 0.5 and lets the command through. */
const CLAMP = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    const p = inputData.input.payload;
    if (p && typeof p.value === 'number' && p.value > 0.5) p.value = 0.5;
    return { allowed: true, input_data: inputData };
  }
}`;

const DENY = DENY_RULE_URI;
const BLOCK = 'block-787sj';

let gw: TestGateway;
let fake: FakeCluster;

const setMap = (body: object) => setPrecheckMap(gw, body);

const createCluster = (id: string, urlMap: object = fake.urlMap) => createClusterAt(gw, id, urlMap);

beforeAll(async () => {
  fake = await startFakeCluster();
  gw = await startTestGateway({ worker: false, env: { CLUSTER_CLIENT_TIMEOUT_MS: '500' } });
  await createCluster('mv-1');
  await createCluster('mv-2');
  const dead = await startFakeCluster(); // a port nothing listens on any more
  await dead.close();
  await createCluster('mv-down', { ...fake.urlMap, controllerService: dead.url, parameterUpdater: dead.url });
  const blocks = new BlockRepository(gw.db.db);
  await blocks.insert({ id: BLOCK, doc: { id: BLOCK, blockMetadata: { name: 'object-detector' } }, cluster_id: 'mv-1', status: 'running' });
  await blocks.insert({ id: 'block-unplaced', doc: { id: 'block-unplaced' }, cluster_id: null, status: 'pending' });
  await blocks.insert({ id: 'block-down', doc: { id: 'block-down' }, cluster_id: 'mv-down', status: 'running' });
  for (const [uri, code] of [['test.mv.recorder:v1', RECORDING_RULE], ['test.mv.clamp:v1', CLAMP]]) {
    await registerJsRule(gw, uri, code);
  }
});
afterAll(async () => {
  await gw?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('vDAG controller actions (spec §5)', () => {
  const createBody = {
    action: 'create_controller',
    payload: {
      vdag_controller_id: 'pose-estimation-ctrl',
      vdag_uri: 'pose-estimation:0.0.1-stable',
      config: { policy_execution_mode: 'local', replicas: 1, custom_data: {} },
      search_tags: ['pose'],
    },
  };

  it('forwards the body unchanged to /vdag-controller and answers with the upstream data', async () => {
    const created = await gw.request('POST', '/vdag-controller/mv-1', createBody);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ success: true, data: 'Controller created successfully' });
    const listed = await gw.request('POST', '/vdag-controller/mv-1', { action: 'list_controllers', payload: {} });
    expect(listed.body).toEqual({ success: true, data: ['pose-estimation-ctrl'] });
    const scale = { action: 'scale_controller', payload: { vdag_controller_id: 'pose-estimation-ctrl', vdag_uri: 'pose-estimation:0.0.1-stable', replicas: 3 } };
    expect((await gw.request('POST', '/vdag-controller/mv-1', scale)).body.data).toBe('Controller scaled to 3 replicas successfully');
    const remove = { action: 'remove_controller', payload: { vdag_controller_id: 'pose-estimation-ctrl' } };
    expect((await gw.request('POST', '/vdag-controller/mv-1', remove)).status).toBe(200);
    // No payload: forwarded as {}.
    expect((await gw.request('POST', '/vdag-controller/mv-1', { action: 'list_controllers' })).body.data).toEqual([]);
    expect(fake.receivedOn('/vdag-controller').map((r) => r.body)).toEqual([
      createBody,
      { action: 'list_controllers', payload: {} },
      scale,
      remove,
      { action: 'list_controllers', payload: {} },
    ]);
    expect(fake.received.every((r) => r.method === 'POST' && r.path === '/vdag-controller')).toBe(true);
  });

  it('400 naming action or payload; 404 for an unknown cluster; nothing is sent', async () => {
    for (const [body, field] of [
      [{ action: 'delete_controller', payload: {} }, 'action'],
      [{ payload: {} }, 'action'],
      [{}, 'action'],
      [{ action: 'create_controller', payload: 'x' }, 'payload'],
    ] as const) {
      const res = await gw.request('POST', '/vdag-controller/mv-1', body);
      expect({ body, status: res.status, field: res.body.error?.details?.field }).toEqual({ body, status: 400, field });
    }
    expect((await gw.request('POST', '/vdag-controller/nope', createBody)).status).toBe(404);
    expect(fake.received).toEqual([]);
  });

  it("an upstream 4xx comes back with its status and body; a 5xx is a 502; down is a 502; a hang is a 504", async () => {
    const missing = await gw.request('POST', '/vdag-controller/mv-1', { action: 'create_controller', payload: { vdag_controller_id: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body.success).toBe(false);
    expect(missing.body.error.code).toBe('UPSTREAM_REJECTED');
    expect(missing.body.message).toContain('Missing required parameters');
    expect(missing.body.error.details).toMatchObject({ upstream_status: 400, upstream_body: { success: false, message: 'Missing required parameters' } });

    fake.fail('create_controller', 500);
    const failed = await gw.request('POST', '/vdag-controller/mv-1', createBody);
    expect(failed.status).toBe(502);
    expect(failed.body.error.details).toMatchObject({ upstream_status: 500, upstream_body: { success: false } });

    fake.respond('list_controllers', { status: 500, body: '<html>Internal Server Error</html>' });
    const html = await gw.request('POST', '/vdag-controller/mv-1', { action: 'list_controllers' });
    expect(html.status).toBe(502);
    expect(html.body.error.details.upstream_status).toBe(500);

    const down = await gw.request('POST', '/vdag-controller/mv-down', createBody);
    expect(down.status).toBe(502);
    expect(down.body.error.details.upstream_status).toBeNull();

    fake.hang('create_controller');
    const started = Date.now();
    const hanging = await gw.request('POST', '/vdag-controller/mv-1', createBody);
    expect(hanging.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('the vdag_controller rule sees exactly {cluster_data, input}; a deny is a 403 and nothing is sent', async () => {
    await setMap({ vdag_controller: 'test.mv.recorder:v1' });
    try {
      const res = await gw.request('POST', '/vdag-controller/mv-1', createBody);
      expect(res.status).toBe(403);
      expect(res.body.error.details.reason.keys).toEqual(['cluster_data', 'input']);
      expect(res.body.error.details.reason.input.input).toEqual(createBody);
      expect(res.body.error.details.reason.input.cluster_data).toMatchObject({ id: 'mv-1', regionId: 'us-west-2' });
      await setMap({ vdag_controller: DENY });
      expect((await gw.request('POST', '/vdag-controller/mv-1', { action: 'list_controllers' })).status).toBe(403);
      expect(fake.received).toEqual([]);
    } finally {
      await setMap({ vdag_controller: '' });
    }
  });
});

describe('block management commands (spec §6)', () => {
  const spec6 = { block_id: BLOCK, service: 'executor', action: 'set_iou', payload: { value: 0.9 } };

  it('reaches the parameter updater /mgmt with {block_id, service, mgmt_action, mgmt_data, instance_id: ""}', async () => {
    const res = await gw.request('POST', '/blocks/mgmt', spec6);
    expect(res.status).toBe(200);
    const sent = { block_id: BLOCK, service: 'executor', mgmt_action: 'set_iou', mgmt_data: { value: 0.9 }, instance_id: '' };
    expect(res.body).toEqual({ success: true, data: { received: sent } });
    expect(fake.received).toEqual([{ method: 'POST', path: '/mgmt', body: sent }]);
  });

  it("takes the Parser's shape (empty cluster_id and instance_id), an instance, and no payload", async () => {
    await gw.request('POST', '/blocks/mgmt', { ...spec6, cluster_id: '', instance_id: '' });
    await gw.request('POST', '/blocks/mgmt', { ...spec6, cluster_id: null, instance_id: 'in-ab12' });
    await gw.request('POST', '/blocks/mgmt', { block_id: BLOCK, service: 'autoscaler', action: 'get_state' });
    await gw.request('POST', '/blocks/mgmt', { ...spec6, cluster_id: 'mv-1' });
    expect(fake.receivedOn('/mgmt').map((r) => r.body)).toEqual([
      { block_id: BLOCK, service: 'executor', mgmt_action: 'set_iou', mgmt_data: { value: 0.9 }, instance_id: '' },
      { block_id: BLOCK, service: 'executor', mgmt_action: 'set_iou', mgmt_data: { value: 0.9 }, instance_id: 'in-ab12' },
      { block_id: BLOCK, service: 'autoscaler', mgmt_action: 'get_state', mgmt_data: {}, instance_id: '' },
      { block_id: BLOCK, service: 'executor', mgmt_action: 'set_iou', mgmt_data: { value: 0.9 }, instance_id: '' },
    ]);
  });

  it('a cluster_id with service stability_checker is a cluster command (the Parser path)', async () => {
    const res = await gw.request('POST', '/blocks/mgmt', { block_id: '', service: 'stability_checker', action: 'set_threshold', payload: { unhealthy_threshold: 5 }, cluster_id: 'mv-1', instance_id: '' });
    expect(res.status).toBe(200);
    expect(fake.receivedOn('/mgmt').map((r) => r.body)).toEqual([
      { block_id: '', service: 'stability_checker', mgmt_action: 'set_threshold', mgmt_data: { unhealthy_threshold: 5 }, instance_id: '' },
    ]);
  });

  it('400 naming the field ({} included), 404 for an unknown block, 409 for a block without a cluster or on another one', async () => {
    for (const [body, field] of [
      [{}, 'service'],
      [{ block_id: BLOCK, service: 'executor' }, 'action'],
      [{ block_id: BLOCK, action: 'x' }, 'service'],
      [{ service: 'executor', action: 'x' }, 'block_id'],
      [{ block_id: '', service: 'executor', action: 'x', cluster_id: '' }, 'block_id'],
      [{ ...spec6, instance_id: 7 }, 'instance_id'],
    ] as const) {
      const res = await gw.request('POST', '/blocks/mgmt', body);
      expect({ body, status: res.status, field: res.body.error?.details?.field }).toEqual({ body, status: 400, field });
    }
    expect((await gw.request('POST', '/blocks/mgmt', { ...spec6, block_id: 'block-nope' })).status).toBe(404);
    const unplaced = await gw.request('POST', '/blocks/mgmt', { ...spec6, block_id: 'block-unplaced' });
    expect(unplaced.status).toBe(409);
    expect((await gw.request('POST', '/blocks/mgmt', { ...spec6, cluster_id: 'mv-2' })).status).toBe(409);
    expect((await gw.request('POST', '/blocks/mgmt', { ...spec6, service: 'stability_checker', cluster_id: 'nope' })).status).toBe(404);
    expect(fake.received).toEqual([]);
  });

  it('the block_mgmt rule sees exactly {block_data, input: {action, payload}}; rewrites are forwarded; a deny sends nothing', async () => {
    await setMap({ block_mgmt: 'test.mv.recorder:v1' });
    try {
      const res = await gw.request('POST', '/blocks/mgmt', spec6);
      expect(res.status).toBe(403);
      expect(res.body.error.details.reason.keys).toEqual(['block_data', 'input']);
      expect(res.body.error.details.reason.input.input).toEqual({ action: 'set_iou', payload: { value: 0.9 } });
      expect(res.body.error.details.reason.input.block_data).toMatchObject({ id: BLOCK, cluster_id: 'mv-1' });
      await setMap({ block_mgmt: DENY });
      expect((await gw.request('POST', '/blocks/mgmt', spec6)).status).toBe(403);
      expect(fake.received).toEqual([]);

      await setMap({ block_mgmt: 'test.mv.clamp:v1' });
      expect((await gw.request('POST', '/blocks/mgmt', spec6)).status).toBe(200);
      expect(fake.receivedOn('/mgmt')[0].body.mgmt_data).toEqual({ value: 0.5 });
    } finally {
      await setMap({ block_mgmt: '' });
    }
  });

  it('502 with the upstream status when the parameter updater fails or is down; 504 when it hangs', async () => {
    fake.fail('/mgmt', 500);
    const failed = await gw.request('POST', '/blocks/mgmt', spec6);
    expect(failed.status).toBe(502);
    expect(failed.body.error.details).toMatchObject({ service: 'parameterUpdater', upstream_status: 500 });

    fake.reset();
    fake.respond('/mgmt', { status: 200, body: { success: false, message: 'unknown service' } });
    const refused = await gw.request('POST', '/blocks/mgmt', spec6);
    expect(refused.status).toBe(502);
    expect(refused.body.error.details).toMatchObject({ upstream_status: 200, upstream_body: { success: false, message: 'unknown service' } });

    const down = await gw.request('POST', '/blocks/mgmt', { ...spec6, block_id: 'block-down' });
    expect(down.status).toBe(502);
    expect(down.body.error.details.upstream_status).toBeNull();

    fake.reset();
    fake.hang('/mgmt');
    const started = Date.now();
    const hanging = gw.request('POST', '/blocks/mgmt', spec6);
    await new Promise((r) => setTimeout(r, 100));
    const other = await gw.request('POST', '/vdag-controller/mv-1', { action: 'list_controllers' });
    expect(other.status).toBe(200);
    const res = await hanging;
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe('cluster management commands (spec §7)', () => {
  const spec7 = { cluster_id: 'mv-1', service: 'stability_checker', action: 'set_interval', payload: { check_interval_sec: 30 } };

  it('reaches the parameter updater /mgmt with {block_id: "", service, mgmt_action, mgmt_data, instance_id: ""}', async () => {
    const res = await gw.request('POST', '/cluster/mgmt', spec7);
    expect(res.status).toBe(200);
    const sent = { block_id: '', service: 'stability_checker', mgmt_action: 'set_interval', mgmt_data: { check_interval_sec: 30 }, instance_id: '' };
    expect(res.body).toEqual({ success: true, data: { received: sent } });
    expect(fake.received).toEqual([{ method: 'POST', path: '/mgmt', body: sent }]);
  });

  it('400 naming the field ({} included); 404 for an unknown cluster', async () => {
    for (const [body, field] of [
      [{}, 'cluster_id'],
      [{ cluster_id: 'mv-1', action: 'x' }, 'service'],
      [{ cluster_id: 'mv-1', service: 'stability_checker' }, 'action'],
      [{ ...spec7, cluster_id: '' }, 'cluster_id'],
    ] as const) {
      const res = await gw.request('POST', '/cluster/mgmt', body);
      expect({ body, status: res.status, field: res.body.error?.details?.field }).toEqual({ body, status: 400, field });
    }
    expect((await gw.request('POST', '/cluster/mgmt', { ...spec7, cluster_id: 'nope' })).status).toBe(404);
    expect(fake.received).toEqual([]);
  });

  it('the cluster_mgmt rule sees exactly {cluster_data, input: {action, payload}} on both routes; a deny sends nothing', async () => {
    await setMap({ cluster_mgmt: 'test.mv.recorder:v1' });
    try {
      const res = await gw.request('POST', '/cluster/mgmt', spec7);
      expect(res.status).toBe(403);
      expect(res.body.error.details.reason.keys).toEqual(['cluster_data', 'input']);
      expect(res.body.error.details.reason.input.input).toEqual({ action: 'set_interval', payload: { check_interval_sec: 30 } });
      expect(res.body.error.details.reason.input.cluster_data).toMatchObject({ id: 'mv-1' });
      const viaBlocks = await gw.request('POST', '/blocks/mgmt', { block_id: '', service: 'stability_checker', action: 'set_interval', payload: {}, cluster_id: 'mv-1', instance_id: '' });
      expect(viaBlocks.status).toBe(403);
      expect(viaBlocks.body.error.details.reason.keys).toEqual(['cluster_data', 'input']);
      await setMap({ cluster_mgmt: DENY });
      expect((await gw.request('POST', '/cluster/mgmt', spec7)).status).toBe(403);
      expect(fake.received).toEqual([]);
    } finally {
      await setMap({ cluster_mgmt: '' });
    }
  });
});
