import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BlockRepository } from '@ccg/db';
import { startFakeCluster, startTestGateway, type FakeCluster, type TestGateway, RECORDING_RULE, registerJsRule, setPrecheckMap, createClusterAt, DENY_RULE_URI } from '@ccg/testkit';

/** scale_block: caps every scale-up at one instance and lets it through. */
const CAP_AT_ONE = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    const i = inputData.input;
    if (i.operation === 'scale') { i.instances_count = 1; if (i.allocation_data) i.allocation_data = i.allocation_data.slice(0, 1); }
    return { allowed: true, input_data: inputData };
  }
}`;

/** scale_block: lets through an input that cannot be forwarded. */
const BREAKER = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    inputData.input.instances_count = 'many';
    return { allowed: true, input_data: inputData };
  }
}`;

const DENY = DENY_RULE_URI;
const BLOCK = 'block-787sj';

let gw: TestGateway;
let fake: FakeCluster;

const setMap = (body: object) => setPrecheckMap(gw, body);

const createCluster = (id: string, urlMap: object = fake.urlMap) => createClusterAt(gw, id, urlMap);

/** The spec §3.1 example with its placeholders filled from the sample cluster. */
const scaleExample = () => ({
  operation: 'scale',
  block_id: BLOCK,
  instances_count: 2,
  allocation_data: [
    { node_id: 'node-1', gpu_ids: [0, 2] },
    { node_id: 'node-2', gpu_ids: [1, 2] },
  ],
});

/** The spec §3.2 example. */
const downscaleExample = () => ({ operation: 'downscale', block_id: BLOCK, instances_list: ['instance-7347a'] });

beforeAll(async () => {
  fake = await startFakeCluster();
  gw = await startTestGateway({ worker: false, env: { CLUSTER_CLIENT_TIMEOUT_MS: '500' } });
  await createCluster('ctl-1');
  await createCluster('ctl-2');
  const dead = await startFakeCluster(); // a port nothing listens on any more
  await dead.close();
  await createCluster('ctl-down', { ...fake.urlMap, controllerService: dead.url });
  const blocks = new BlockRepository(gw.db.db);
  await blocks.insert({ id: BLOCK, doc: { id: BLOCK, blockMetadata: { name: 'object-detector' } }, cluster_id: 'ctl-1', status: 'running' });
  await blocks.insert({ id: 'block-elsewhere', doc: { id: 'block-elsewhere' }, cluster_id: 'ctl-2', status: 'running' });
  await blocks.insert({ id: 'block-unplaced', doc: { id: 'block-unplaced' }, cluster_id: null, status: 'pending' });
  await blocks.insert({ id: 'block-down', doc: { id: 'block-down' }, cluster_id: 'ctl-down', status: 'running' });
  for (const [uri, code] of [['test.ctl.recorder:v1', RECORDING_RULE], ['test.ctl.cap:v1', CAP_AT_ONE], ['test.ctl.breaker:v1', BREAKER]]) {
    await registerJsRule(gw, uri, code);
  }
});
afterAll(async () => {
  await gw?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('block scaling (spec §3)', () => {
  it('§3.1 scale reaches /executeAction with exactly the flat body and the real cluster id', async () => {
    const res = await gw.request('POST', '/controller/block-scaling/ctl-1', scaleExample());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: 'scaled instances' });
    expect(fake.received).toHaveLength(1);
    expect(fake.received[0]).toMatchObject({ method: 'POST', path: '/executeAction' });
    expect(fake.received[0].body).toEqual({ action: 'scale', ...scaleExample(), cluster_id: 'ctl-1' });
  });

  it('§3.2 downscale reaches /executeAction with exactly the flat body', async () => {
    const res = await gw.request('POST', '/controller/block-scaling/ctl-1', downscaleExample());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: 'scaled instances' });
    expect(fake.receivedOn('/executeAction').map((r) => r.body)).toEqual([{ action: 'scale', ...downscaleExample(), cluster_id: 'ctl-1' }]);
  });

  it('scale without allocation_data (the resourceAllocator decides) and with init_data', async () => {
    const body = { operation: 'scale', block_id: BLOCK, instances_count: 1, init_data: [{ warm: true }] };
    const res = await gw.request('POST', '/controller/block-scaling/ctl-1', body);
    expect(res.status).toBe(200);
    expect(fake.receivedOn('scale')[0].body).toEqual({ action: 'scale', ...body, cluster_id: 'ctl-1' });
  });

  it('400 naming the field of a bad body; nothing is sent', async () => {
    const cases: Array<[object, string]> = [
      [{ ...scaleExample(), instances_count: 0 }, 'instances_count'],
      [{ ...scaleExample(), instances_count: 1.5 }, 'instances_count'],
      [{ ...scaleExample(), operation: 'upscale' }, 'operation'],
      [{ block_id: BLOCK, instances_count: 1 }, 'operation'],
      [{ ...scaleExample(), allocation_data: [{ node_id: 'node-1', gpu_ids: [0] }, { node_id: 'node-5', gpu_ids: [1, 2] }] }, 'allocation_data.1.node_id'],
      [{ ...scaleExample(), allocation_data: [{ node_id: 'node-1', gpu_ids: [0] }] }, 'allocation_data'],
      [{ ...scaleExample(), allocation_data: [{ node_id: 'node-1', gpu_ids: [-1] }, { node_id: 'node-2', gpu_ids: [] }] }, 'allocation_data.0.gpu_ids.0'],
      [{ ...downscaleExample(), instances_list: [] }, 'instances_list'],
      [{ operation: 'downscale', block_id: BLOCK }, 'instances_list'],
      [{ operation: 'scale', instances_count: 1 }, 'block_id'],
      [{ ...downscaleExample(), instances_count: 2 }, 'instances_count'],
      [{ ...downscaleExample(), cluster_id: 'ctl-2' }, 'cluster_id'],
    ];
    for (const [body, field] of cases) {
      const res = await gw.request('POST', '/controller/block-scaling/ctl-1', body);
      expect({ body, status: res.status, field: res.body.error?.details?.field }).toEqual({ body, status: 400, field });
    }
    expect(fake.received).toEqual([]);
  });

  it('404 for an unknown cluster or block, 409 for a block on another cluster or on none', async () => {
    expect((await gw.request('POST', '/controller/block-scaling/nope', scaleExample())).status).toBe(404);
    const unknown = await gw.request('POST', '/controller/block-scaling/ctl-1', { ...downscaleExample(), block_id: 'block-nope' });
    expect(unknown.status).toBe(404);
    const elsewhere = await gw.request('POST', '/controller/block-scaling/ctl-1', { ...downscaleExample(), block_id: 'block-elsewhere' });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error.details).toMatchObject({ block_id: 'block-elsewhere', block_cluster_id: 'ctl-2', cluster_id: 'ctl-1' });
    const unplaced = await gw.request('POST', '/controller/block-scaling/ctl-1', { ...downscaleExample(), block_id: 'block-unplaced' });
    expect(unplaced.status).toBe(409);
    expect(fake.received).toEqual([]);
  });

  it('the scale_block rule sees exactly {block_data, input}; a deny is a 403 and nothing is sent', async () => {
    await setMap({ scale_block: 'test.ctl.recorder:v1' });
    try {
      const res = await gw.request('POST', '/controller/block-scaling/ctl-1', scaleExample());
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('PRECHECK_DENIED');
      const seen = res.body.error.details.reason;
      expect(seen.keys).toEqual(['block_data', 'input']);
      expect(seen.input.input).toEqual(scaleExample());
      expect(seen.input.block_data).toMatchObject({ id: BLOCK, cluster_id: 'ctl-1', blockMetadata: { name: 'object-detector' } });

      await setMap({ scale_block: DENY });
      expect((await gw.request('POST', '/controller/block-scaling/ctl-1', downscaleExample())).status).toBe(403);
      expect(fake.received).toEqual([]);
    } finally {
      await setMap({ scale_block: '' });
    }
  });

  it("forwards the rule's rewritten input, and refuses one that cannot be forwarded", async () => {
    await setMap({ scale_block: 'test.ctl.cap:v1' });
    try {
      const res = await gw.request('POST', '/controller/block-scaling/ctl-1', scaleExample());
      expect(res.status).toBe(200);
      expect(fake.receivedOn('scale')[0].body).toEqual({
        action: 'scale',
        operation: 'scale',
        block_id: BLOCK,
        instances_count: 1,
        allocation_data: [{ node_id: 'node-1', gpu_ids: [0, 2] }],
        cluster_id: 'ctl-1',
      });
      await setMap({ scale_block: 'test.ctl.breaker:v1' });
      const broken = await gw.request('POST', '/controller/block-scaling/ctl-1', scaleExample());
      expect(broken.status).toBe(400);
      expect(broken.body.error.details.field).toBe('instances_count');
      expect(broken.body.message).toContain('scale_block pre-check');
      expect(fake.received).toHaveLength(1);
    } finally {
      await setMap({ scale_block: '' });
    }
  });

  it('502 with the upstream status in error.details when the controller fails or is down', async () => {
    fake.fail('scale', 500);
    const failed = await gw.request('POST', '/controller/block-scaling/ctl-1', downscaleExample());
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('UPSTREAM_ERROR');
    expect(failed.body.error.details).toMatchObject({ upstream_status: 500, upstream_body: { success: false } });

    const down = await gw.request('POST', '/controller/block-scaling/ctl-down', { ...downscaleExample(), block_id: 'block-down' });
    expect(down.status).toBe(502);
    expect(down.body.error.details).toMatchObject({ upstream_status: null });
    expect(down.body.error.details.cause).toMatch(/ECONNREFUSED/);
  });

  it('504 within about a second for a hanging controller, while another request is answered meanwhile', async () => {
    fake.hang('scale');
    const started = Date.now();
    const hanging = gw.request('POST', '/controller/block-scaling/ctl-1', downscaleExample());
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const other = await gw.request('POST', '/controller/removeInstance/ctl-1', { block_id: BLOCK, instance_id: 'in-ab12' });
    expect(other.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(400);
    const res = await hanging;
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('UPSTREAM_TIMEOUT');
    expect(res.body.error.details).toMatchObject({ timeout_ms: 500 });
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1500);
  });
});

describe('original controller proxies (original-gateway §1.3, §1.4)', () => {
  const blockData = { id: 'block-new', policies: { resourceAllocator: { policyRuleURI: 'alloc:v1' } }, component: { containerRegistryInfo: { containerImage: 'x' } } };

  it('createBlock and resourceAllocation forward create_block {block_data, cluster_id}', async () => {
    for (const path of ['/controller/createBlock/ctl-1', '/controller/resourceAllocation/ctl-1']) {
      fake.reset();
      const res = await gw.request('POST', path, { block_data: blockData });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, data: 'Action performed' });
      expect(fake.receivedOn('/executeAction').map((r) => r.body)).toEqual([{ action: 'create_block', block_data: blockData, cluster_id: 'ctl-1' }]);
    }
  });

  it('removeBlock forwards remove_block {block_id, cluster_id}', async () => {
    const res = await gw.request('POST', '/controller/removeBlock/ctl-1', { block_id: BLOCK });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: 'Action performed' });
    expect(fake.receivedOn('/executeAction').map((r) => r.body)).toEqual([{ action: 'remove_block', block_id: BLOCK, cluster_id: 'ctl-1' }]);
  });

  it('removeInstance forwards remove_instance {block_id, instance_id, cluster_id}', async () => {
    const res = await gw.request('POST', '/controller/removeInstance/ctl-1', { block_id: BLOCK, instance_id: 'in-ab12' });
    expect(res.status).toBe(200);
    expect(fake.receivedOn('/executeAction').map((r) => r.body)).toEqual([{ action: 'remove_instance', block_id: BLOCK, instance_id: 'in-ab12', cluster_id: 'ctl-1' }]);
  });

  it('reassign-instance forwards reassign {instanceId, blockId, extra_data, cluster_id}', async () => {
    const res = await gw.request('POST', '/controller/reassign-instance/ctl-1', { instanceId: 'in-ab12', blockId: BLOCK, extra_data: { prefer: 'node-2' } });
    expect(res.status).toBe(200);
    const noExtra = await gw.request('POST', '/controller/reassign-instance/ctl-1', { instanceId: 'in-cd34', blockId: BLOCK });
    expect(noExtra.status).toBe(200);
    expect(fake.receivedOn('/executeAction').map((r) => r.body)).toEqual([
      { action: 'reassign', instanceId: 'in-ab12', blockId: BLOCK, extra_data: { prefer: 'node-2' }, cluster_id: 'ctl-1' },
      { action: 'reassign', instanceId: 'in-cd34', blockId: BLOCK, extra_data: {}, cluster_id: 'ctl-1' },
    ]);
  });

  it('initCreateStatusUpdate forwards init_create_status_update; queryInitContainerData forwards query_init_container_data', async () => {
    const report = { block_id: 'block-3p', stage: 'finish', status: 'success', status_data: { endpoint: 'x:1' } };
    const update = await gw.request('POST', '/initContainer/initCreateStatusUpdate/ctl-1', report);
    expect(update.status).toBe(200);
    expect(update.body).toEqual({ success: true, data: 'status updated' });
    const query = await gw.request('POST', '/initContainer/queryInitContainerData/ctl-1', { block_id: 'block-3p' });
    expect(query.status).toBe(200);
    expect(query.body).toEqual({ success: true, data: [true, { id: 'block-3p', block_data: {}, status: 'pending', status_data: {} }] });
    expect(fake.receivedOn('/executeAction').map((r) => r.body)).toEqual([
      { action: 'init_create_status_update', ...report, cluster_id: 'ctl-1' },
      { action: 'query_init_container_data', block_id: 'block-3p', cluster_id: 'ctl-1' },
    ]);
  });

  it('400 naming the missing field, 404 for an unknown cluster, 409 for a registered block on another cluster', async () => {
    const cases: Array<[string, object, string]> = [
      ['/controller/createBlock/ctl-1', {}, 'block_data'],
      ['/controller/createBlock/ctl-1', { block_data: {} }, 'block_data.id'],
      ['/controller/resourceAllocation/ctl-1', { block_data: 'x' }, 'block_data'],
      ['/controller/removeBlock/ctl-1', {}, 'block_id'],
      ['/controller/removeInstance/ctl-1', { block_id: BLOCK }, 'instance_id'],
      ['/controller/reassign-instance/ctl-1', { instanceId: 'in-1' }, 'blockId'],
      ['/initContainer/initCreateStatusUpdate/ctl-1', { block_id: 'b', status: 'success' }, 'stage'],
      ['/initContainer/initCreateStatusUpdate/ctl-1', { block_id: 'b', status: 'success', stage: 'middle' }, 'stage'],
      ['/initContainer/queryInitContainerData/ctl-1', {}, 'block_id'],
    ];
    for (const [path, body, field] of cases) {
      const res = await gw.request('POST', path, body);
      expect({ path, status: res.status, field: res.body.error?.details?.field }).toEqual({ path, status: 400, field });
    }
    expect((await gw.request('POST', '/controller/removeBlock/nope', { block_id: BLOCK })).status).toBe(404);
    expect((await gw.request('POST', '/initContainer/queryInitContainerData/nope', { block_id: BLOCK })).status).toBe(404);
    expect((await gw.request('POST', '/controller/removeInstance/ctl-1', { block_id: 'block-elsewhere', instance_id: 'in-1' })).status).toBe(409);
    expect(fake.received).toEqual([]);
  });

  it('pre-checks: add_block, remove_block and scale_block see the documented input dicts; no pre-check on init-container reports', async () => {
    await setMap({ add_block: 'test.ctl.recorder:v1', remove_block: 'test.ctl.recorder:v1', scale_block: 'test.ctl.recorder:v1' });
    try {
      const add = await gw.request('POST', '/controller/createBlock/ctl-1', { block_data: blockData });
      expect(add.status).toBe(403);
      expect(add.body.error.details.reason.keys).toEqual(['block_data', 'cluster_data', 'cluster_metrics']);
      expect(add.body.error.details.reason.input).toMatchObject({ block_data: blockData, cluster_data: { id: 'ctl-1' }, cluster_metrics: null });

      const known = await gw.request('POST', '/controller/removeBlock/ctl-1', { block_id: BLOCK });
      expect(known.status).toBe(403);
      expect(known.body.error.details.reason.keys).toEqual(['block_data', 'block_instance_nodes', 'block_metrics', 'cluster_data', 'cluster_metrics']);
      expect(known.body.error.details.reason.input).toMatchObject({ block_data: { id: BLOCK, cluster_id: 'ctl-1' }, block_metrics: null, block_instance_nodes: [] });
      const unknown = await gw.request('POST', '/controller/removeBlock/ctl-1', { block_id: 'block-unregistered' });
      expect(unknown.body.error.details.reason.input.block_data).toEqual({ id: 'block-unregistered' });

      const inst = await gw.request('POST', '/controller/removeInstance/ctl-1', { block_id: BLOCK, instance_id: 'in-1' });
      expect(inst.body.error.details.reason.keys).toEqual(['block_data', 'input']);
      expect(inst.body.error.details.reason.input.input).toEqual({ block_id: BLOCK, instance_id: 'in-1' });
      const reassign = await gw.request('POST', '/controller/reassign-instance/ctl-1', { instanceId: 'in-1', blockId: BLOCK });
      expect(reassign.status).toBe(403);
      expect(reassign.body.error.details.reason.input.input).toEqual({ instanceId: 'in-1', blockId: BLOCK });
      expect(fake.received).toEqual([]);

      expect((await gw.request('POST', '/initContainer/queryInitContainerData/ctl-1', { block_id: BLOCK })).status).toBe(200);
    } finally {
      await setMap({ add_block: '', remove_block: '', scale_block: '' });
    }
  });
});
