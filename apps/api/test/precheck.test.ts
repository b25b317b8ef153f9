import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sampleCluster, startTestGateway, waitFor, type TestGateway } from '@ccg/testkit';

const ALLOW_ALL = 'aiosv1.policies.builtin.allow-all:v1.0.0-stable';
const DENY = 'aiosv1.policies.builtin.deny-with-reason:v1.0.0-stable';

/** The spec's sample CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP. */
const SPEC_MAP = {
  add_node: 'aiosv1.policies.cluster-controller-gateway.add-node:v0.0.1-stable',
  remove_node: 'aiosv1.policies.cluster-controller-gateway.remove-node:v0.0.1-stable',
  add_cluster: 'aiosv1.policies.cluster-controller-gateway.add-cluster:v0.0.1-stable',
  remove_cluster: 'aiosv1.policies.cluster-controller-gateway.remove-cluster:v0.0.1-stable',
  add_block: 'aiosv1.policies.cluster-controller-gateway.add-block:v0.0.1-stable',
  remove_block: 'aiosv1.policies.cluster-controller-gateway.remove-block:v0.0.1-stable',
  update_cluster: 'aiosv1.policies.cluster-controller-gateway.update-cluster:v0.0.1-stable',
  scale_block: 'aiosv1.policies.cluster-controller-gateway.scale-block:v0.0.1-stable',
  block_mgmt: 'aiosv1.policies.cluster-controller-gateway.block-mgmt:v0.0.1-stable',
  cluster_mgmt: 'aiosv1.policies.cluster-controller-gateway.cluster-mgmt:v0.0.1-stable',
};

const JS_VENDOR_REWRITE = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) { this.settings = settings; }
  eval(parameters, inputData, context) {
    const c = inputData.cluster_data;
    if (c.regionId === 'forbidden') return { allowed: false, input_data: { message: 'region not allowed', region: c.regionId } };
    c.clusterMetadata = Object.assign({}, c.clusterMetadata, { vendor: parameters.vendor || 'js-rewritten' });
    return { allowed: true, input_data: inputData };
  }
}`;

const PY_TAGGER = `class AIOSv1PolicyRule:
    def __init__(self, rule_id, settings, parameters):
        self.rule_id = rule_id
        self.settings = settings
        self.parameters = parameters

    def eval(self, parameters, input_data, context):
        cluster = input_data["cluster_data"]
        if cluster.get("regionId") == "py-forbidden":
            return {"allowed": False, "input_data": {"message": "python says no"}}
        cluster["tags"] = list(cluster.get("tags", [])) + [parameters.get("tag", "py-checked")]
        return {"allowed": True, "input_data": input_data}
`;

const JS_COUNTER = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    context.count = (context.count || 0) + 1;
    inputData.cluster_data.clusterMetadata.additionalInfo = Object.assign({}, inputData.cluster_data.clusterMetadata.additionalInfo, { seq: context.count });
    return { allowed: true, input_data: inputData };
  }
}`;

const JS_LOOP = `class AIOSv1PolicyRule { constructor() {} eval() { while (true) {} } }`;

async function register(gw: TestGateway, body: object) {
  const res = await gw.request('POST', '/policies', body);
  expect(res.status).toBe(200);
  return res.body.data;
}

async function setMap(gw: TestGateway, body: object, clusterId?: string) {
  const res = await gw.request('POST', `/pre-check-policies/update${clusterId ? `?cluster_id=${clusterId}` : ''}`, body);
  expect(res.status).toBe(200);
  return res.body.data;
}

describe('the action map', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false, env: { CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP: JSON.stringify(SPEC_MAP) } });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('loads the spec sample map from the environment, naming unregistered rules as unresolved', async () => {
    const res = await gw.request('GET', '/pre-check-policies');
    expect(res.status).toBe(200);
    expect(res.body.data.map).toEqual(SPEC_MAP);
    expect(Object.values(res.body.data.sources)).toEqual(Array(10).fill('env'));
    expect(res.body.data.unresolved.sort()).toEqual(Object.values(SPEC_MAP).sort());
    const orig = await gw.request('GET', '/pre-check-policies/get');
    expect(orig.body.data.map).toEqual(SPEC_MAP);
  });

  it("applies the spec's update example, keeps it across a restart, and a second API process sees it at once", async () => {
    const second = await startTestGateway({ worker: false, replicaOf: gw });
    try {
      // Warm the second process's cache before the change.
      expect((await second.request('GET', '/pre-check-policies')).body.data.map).toEqual(SPEC_MAP);
      const updated = await setMap(gw, {
        add_node: 'aiosv1.policies.cluster-controller-gateway.add-node:v0.0.12-stable',
        remove_node: 'aiosv1.policies.cluster-controller-gateway.remove-node:v0.0.1-stable',
        add_cluster: 'aiosv1.policies.cluster-controller-gateway.add-cluster:v0.0.2-stable',
        remove_cluster: '',
        add_block: '',
      });
      const expected = {
        ...SPEC_MAP,
        add_node: 'aiosv1.policies.cluster-controller-gateway.add-node:v0.0.12-stable',
        add_cluster: 'aiosv1.policies.cluster-controller-gateway.add-cluster:v0.0.2-stable',
      } as Record<string, string>;
      delete expected.remove_cluster;
      delete expected.add_block;
      expect(updated.map).toEqual(expected);
      expect(updated.sources).toMatchObject({ add_node: 'global', remove_node: 'global', add_cluster: 'global', update_cluster: 'env' });
      expect((await second.request('GET', '/pre-check-policies')).body.data.map).toEqual(expected);
      // The second process's gate follows too: remove_cluster is no longer checked there.
      await second.request('POST', '/clusters/create', sampleCluster('seen-by-replica')).catch(() => undefined);
      const history = await gw.request('GET', '/pre-check-policies/history');
      expect(history.body.data.items[0].changes).toMatchObject({ remove_cluster: null, add_block: null });

      await gw.close();
      gw = await startTestGateway({ worker: false, replicaOf: second });
      expect((await gw.request('GET', '/pre-check-policies')).body.data.map).toEqual(expected);
    } finally {
      await second.close();
    }
  });

  it('400 naming an unknown action or a malformed entry', async () => {
    const unknown = await gw.request('POST', '/pre-check-policies/update', { add_nodes: 'x:y' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('add_nodes');
    const bad = await gw.request('POST', '/pre-check-policies/update', { add_node: { policyRuleURI: 'x:y', mode: 'sometimes' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('add_node');
  });
});

describe('pre-check rules in front of cluster writes', () => {
  let gw: TestGateway;
  let executor: Server;
  let executorUrl: string;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
    // A local executor speaking the AIOS remote protocol, with the policies system's double envelope.
    executor = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const m = /^\/executor\/([^/]+)\/execute_policy$/.exec(req.url ?? '');
        const parsed = JSON.parse(body || '{}');
        res.setHeader('content-type', 'application/json');
        if (!m || req.method !== 'POST') {
          res.statusCode = 404;
          return res.end(JSON.stringify({ success: false, message: 'no route' }));
        }
        res.statusCode = 202;
        if (parsed.policy_rule_uri === 'remote.raises:v1') return res.end(JSON.stringify({ success: true, data: { success: false, message: 'rule raised' } }));
        const region = parsed.input_data?.cluster_data?.regionId;
        const out = region === 'remote-forbidden' ? { allowed: false, input_data: { message: `executor ${m[1]} says no`, limit: parsed.parameters?.limit } } : { allowed: true, input_data: parsed.input_data };
        res.end(JSON.stringify({ success: true, data: { success: true, data: out } }));
      });
    });
    await new Promise<void>((r) => executor.listen(0, '127.0.0.1', () => r()));
    executorUrl = `http://127.0.0.1:${(executor.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await gw.close();
    await new Promise((r) => executor.close(r));
  });

  it('a JS rule rewrites what is stored, and denies with its reason as 403 PRECHECK_DENIED', async () => {
    await register(gw, { uri: 'test.js.vendor:v1', runtime: 'js', code: JS_VENDOR_REWRITE });
    await setMap(gw, { add_cluster: 'test.js.vendor:v1' });
    const created = await gw.request('POST', '/clusters/create', sampleCluster('js-rewrite'));
    expect(created.status).toBe(200);
    expect(created.body.data.clusterMetadata.vendor).toBe('js-rewritten');
    expect((await gw.request('GET', '/clusters/read/js-rewrite')).body.data.clusterMetadata.vendor).toBe('js-rewritten');

    const denied = await gw.request('POST', '/clusters/create', { ...sampleCluster('js-denied'), regionId: 'forbidden' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('PRECHECK_DENIED');
    expect(denied.body.error.details.reason).toEqual({ message: 'region not allowed', region: 'forbidden' });
    expect((await gw.request('GET', '/clusters/read/js-denied')).status).toBe(404);

    // Parameters from the map reach eval.
    await setMap(gw, { add_cluster: { policyRuleURI: 'test.js.vendor:v1', parameters: { vendor: 'from-map' } } });
    const withParams = await gw.request('POST', '/clusters/create', sampleCluster('js-params'));
    expect(withParams.body.data.clusterMetadata.vendor).toBe('from-map');
    await setMap(gw, { add_cluster: '' });
  });

  it('a Python rule written to the spec contract rewrites an update and denies with a reason', async () => {
    await register(gw, { uri: 'test.py.tagger:v1', runtime: 'python', code: PY_TAGGER });
    await gw.request('POST', '/clusters/create', sampleCluster('py-upd'));
    await setMap(gw, { update_cluster: 'test.py.tagger:v1' });
    const res = await gw.request('PATCH', '/clusters/update/py-upd', { reputation: 10 });
    expect(res.status).toBe(200);
    expect(res.body.data.tags).toContain('py-checked');
    expect(res.body.data.reputation).toBe(10);
    const denied = await gw.request('PATCH', '/clusters/update/py-upd', { regionId: 'py-forbidden' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.details.reason).toEqual({ message: 'python says no' });
    expect((await gw.request('GET', '/clusters/read/py-upd')).body.data.regionId).toBe('us-west-2');
    await setMap(gw, { update_cluster: '' });
  });

  it('a Python rule registered as an AIOS archive (code/function.py in a zip) runs', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ccg-archive-'));
    execFileSync('python3', ['-c', `import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w')\nz.writestr('code/function.py', sys.argv[2])\nz.writestr('code/requirements.txt','')\nz.close()`, path.join(dir, 'rule.zip'), PY_TAGGER]);
    const archive = readFileSync(path.join(dir, 'rule.zip')).toString('base64');
    const p = await register(gw, { uri: 'test.py.archive:v1', runtime: 'python', archive_base64: archive, parameters: { tag: 'from-archive' } });
    expect(p.packaging).toBe('archive');
    const ev = await gw.request('POST', '/policies/test.py.archive:v1/eval', { input: { cluster_data: { tags: [] } } });
    expect(ev.body.data).toMatchObject({ ok: true, output: { allowed: true, input_data: { cluster_data: { tags: ['from-archive'] } } } });
    const bad = await gw.request('POST', '/policies', { uri: 'test.py.bad-archive:v1', runtime: 'python', archive_base64: Buffer.from('not a zip').toString('base64') });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('archive_base64');
  });

  it('a remote rule runs on an AIOS executor (denies through the double envelope; a raising rule fails closed)', async () => {
    await register(gw, { uri: 'test.remote.region:v1', runtime: 'remote', remote: { url: executorUrl, executor_id: 'executor-001' }, parameters: { limit: 3 } });
    await setMap(gw, { add_cluster: 'test.remote.region:v1' });
    expect((await gw.request('POST', '/clusters/create', sampleCluster('remote-ok'))).status).toBe(200);
    const denied = await gw.request('POST', '/clusters/create', { ...sampleCluster('remote-no'), regionId: 'remote-forbidden' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.details.reason).toEqual({ message: 'executor executor-001 says no', limit: 3 });
    await register(gw, { uri: 'test.remote.raises:v1', runtime: 'remote', remote: { url: executorUrl, executor_id: 'e1', policy_rule_uri: 'remote.raises:v1' } });
    await setMap(gw, { add_cluster: 'test.remote.raises:v1' });
    const failed = await gw.request('POST', '/clusters/create', sampleCluster('remote-raise'));
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('PRECHECK_UNAVAILABLE');
    expect(failed.body.message).toContain('rule raised');
    await setMap(gw, { add_cluster: '' });
  });

  it('a counter rule keeps its context across evaluations and restarts', async () => {
    await register(gw, { uri: 'test.js.counter:v1', runtime: 'js', code: JS_COUNTER });
    await gw.request('POST', '/clusters/create', sampleCluster('counted'));
    await setMap(gw, { update_cluster: 'test.js.counter:v1' });
    for (const expected of [1, 2, 3]) {
      const res = await gw.request('PATCH', '/clusters/update/counted', { reputation: expected });
      expect(res.body.data.clusterMetadata.additionalInfo.seq).toBe(expected);
    }
    const restarted = await startTestGateway({ worker: false, replicaOf: gw });
    try {
      const res = await restarted.request('PATCH', '/clusters/update/counted', { reputation: 4 });
      expect(res.body.data.clusterMetadata.additionalInfo.seq).toBe(4);
      // And back on the first replica, which must not use a stale cached context.
      const again = await waitFor(() => gw.request('PATCH', '/clusters/update/counted', { reputation: 5 }), () => true);
      expect(again.body.data.clusterMetadata.additionalInfo.seq).toBe(5);
    } finally {
      await restarted.close();
    }
    await setMap(gw, { update_cluster: '' });
  });

  it('audit mode evaluates and logs but never blocks', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('audited'));
    await setMap(gw, { update_cluster: { policyRuleURI: DENY, mode: 'audit', parameters: { reason: 'audit only' } } });
    const res = await gw.request('PATCH', '/clusters/update/audited', { reputation: 1 });
    expect(res.status).toBe(200);
    const log = await gw.request('GET', '/pre-check-policies/decisions?action=update_cluster&outcome=denied');
    expect(log.body.data.items[0]).toMatchObject({ rule_uri: DENY, mode: 'audit', outcome: 'denied', reason: { reason: 'audit only' }, cluster_id: 'audited' });
    await setMap(gw, { update_cluster: '' });
  });

  it('an unresolvable rule fails closed (503 naming the URI) by default and open when configured', async () => {
    await setMap(gw, { add_cluster: 'not.registered.rule:v9' });
    const closed = await gw.request('POST', '/clusters/create', sampleCluster('closed'));
    expect(closed.status).toBe(503);
    expect(closed.body.error.code).toBe('PRECHECK_UNAVAILABLE');
    expect(closed.body.message).toContain('not.registered.rule:v9');
    expect(closed.headers.get('retry-after')).toBeTruthy();
    await setMap(gw, { add_cluster: { policyRuleURI: 'not.registered.rule:v9', failurePolicy: 'open' } });
    expect((await gw.request('POST', '/clusters/create', sampleCluster('open'))).status).toBe(200);
    const map = await gw.request('GET', '/pre-check-policies');
    expect(map.body.data.unresolved).toEqual(['not.registered.rule:v9']);
    await setMap(gw, { add_cluster: '' });
  });

  it('a looping rule times out within its limit while other requests are served', async () => {
    await register(gw, { uri: 'test.js.loop:v1', runtime: 'js', code: JS_LOOP });
    const started = Date.now();
    const evalP = gw.request('POST', '/policies/test.js.loop:v1/eval', { input: {}, timeoutMs: 1500 });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const health = await gw.request('GET', '/healthz');
    const healthMs = Date.now() - t0;
    const ev = await evalP;
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(700);
    expect(ev.body.data).toMatchObject({ ok: false, error_type: 'PolicyTimeoutError' });
    expect(Date.now() - started).toBeLessThan(4000);
    // The runtime still works afterwards.
    const ok = await gw.request('POST', `/policies/${ALLOW_ALL}/eval`, { input: { a: 1 } });
    expect(ok.body.data.output).toEqual({ allowed: true, input_data: { a: 1 } });
  });

  it('a per-cluster map applies only to that cluster, over the global one', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('scoped-a'));
    await gw.request('POST', '/clusters/create', sampleCluster('scoped-b'));
    await setMap(gw, { update_cluster: { policyRuleURI: DENY, parameters: { reason: 'frozen' } } }, 'scoped-a');
    const a = await gw.request('PATCH', '/clusters/update/scoped-a', { reputation: 1 });
    expect(a.status).toBe(403);
    expect(a.body.error.details.reason).toEqual({ reason: 'frozen' });
    expect((await gw.request('PATCH', '/clusters/update/scoped-b', { reputation: 1 })).status).toBe(200);
    const scoped = await gw.request('GET', '/pre-check-policies?cluster_id=scoped-a');
    expect(scoped.body.data.sources.update_cluster).toBe('cluster');
    await setMap(gw, { update_cluster: '' }, 'scoped-a');
    expect((await gw.request('PATCH', '/clusters/update/scoped-a', { reputation: 2 })).status).toBe(200);
  });

  it('remove_cluster gets the spec input (cluster_data, cluster_metrics, cluster_blocks)', async () => {
    await register(gw, {
      uri: 'test.js.echo-remove:v1',
      runtime: 'js',
      code: `class AIOSv1PolicyRule { constructor() {} eval(p, input) { return { allowed: false, input_data: { keys: Object.keys(input).sort(), id: input.cluster_data.id, metrics: input.cluster_metrics, blocks: input.cluster_blocks } }; } }`,
    });
    await gw.request('POST', '/clusters/create', sampleCluster('to-remove'));
    await setMap(gw, { remove_cluster: 'test.js.echo-remove:v1' });
    const res = await gw.request('DELETE', '/clusters/delete/to-remove');
    expect(res.status).toBe(403);
    expect(res.body.error.details.reason).toEqual({ keys: ['cluster_blocks', 'cluster_data', 'cluster_metrics'], id: 'to-remove', metrics: null, blocks: [] });
    expect((await gw.request('GET', '/clusters/read/to-remove')).status).toBe(200);
    await setMap(gw, { remove_cluster: '' });
  });

  it('the decision log holds allows and denies with code hashes, input diffs and request ids', async () => {
    await setMap(gw, { add_cluster: 'test.js.vendor:v1' });
    await gw.request('POST', '/clusters/create', sampleCluster('logged-allow'), { 'X-Request-Id': 'req-allow-1' });
    await gw.request('POST', '/clusters/create', { ...sampleCluster('logged-deny'), regionId: 'forbidden' });
    await setMap(gw, { add_cluster: '' });
    const rule = await gw.request('GET', '/policies/test.js.vendor:v1');
    const all = await gw.request('GET', '/pre-check-policies/decisions?action=add_cluster&rule_uri=test.js.vendor:v1&limit=500');
    const allow = all.body.data.items.find((d: any) => d.request_id === 'req-allow-1');
    expect(allow).toMatchObject({ outcome: 'allowed', mode: 'enforce', code_sha256: rule.body.data.code_sha256, input_changed: true, cluster_id: 'logged-allow' });
    expect(allow.input_diff).toEqual([{ op: 'replace', path: '/cluster_data/clusterMetadata/vendor', value: 'js-rewritten' }]);
    expect(allow.latency_ms).toBeGreaterThan(0);
    expect(all.body.data.items.some((d: any) => d.outcome === 'denied' && d.cluster_id === 'logged-deny')).toBe(true);
    const bad = await gw.request('GET', '/pre-check-policies/decisions?outcome=maybe');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('outcome');
  });
});

describe('the policy registry', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('lists the built-in rules, which cannot be deleted', async () => {
    const res = await gw.request('GET', '/policies');
    expect(res.body.data.items.map((p: any) => p.uri)).toEqual(expect.arrayContaining([ALLOW_ALL, DENY]));
    expect((await gw.request('DELETE', `/policies/${ALLOW_ALL}`)).status).toBe(409);
  });

  it("keeps a URI's code immutable, keeps its sha256, and registering the same code again is harmless", async () => {
    const first = await register(gw, { uri: 'test.reg.rule:v1', runtime: 'js', code: JS_COUNTER, description: 'counter' });
    expect(first.created).toBe(true);
    expect(first.code_sha256).toMatch(/^[0-9a-f]{64}$/);
    const same = await register(gw, { uri: 'test.reg.rule:v1', runtime: 'js', code: JS_COUNTER });
    expect(same.created).toBe(false);
    const other = await gw.request('POST', '/policies', { uri: 'test.reg.rule:v1', runtime: 'js', code: JS_LOOP });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('POLICY_CODE_IMMUTABLE');
    const read = await gw.request('GET', '/policies/test.reg.rule:v1');
    expect(read.body.data).toMatchObject({ uri: 'test.reg.rule:v1', runtime: 'js', code: JS_COUNTER, description: 'counter' });
  });

  it('refuses to delete a rule the map uses; deletes it once unused; 404 after', async () => {
    await register(gw, { uri: 'test.reg.used:v1', runtime: 'js', code: JS_COUNTER });
    await setMap(gw, { add_node: 'test.reg.used:v1' });
    const refused = await gw.request('DELETE', '/policies/test.reg.used:v1');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('POLICY_IN_USE');
    await setMap(gw, { add_node: '' });
    expect((await gw.request('DELETE', '/policies/test.reg.used:v1')).status).toBe(200);
    expect((await gw.request('GET', '/policies/test.reg.used:v1')).status).toBe(404);
    expect((await gw.request('DELETE', '/policies/test.reg.used:v1')).status).toBe(404);
  });

  it('400 naming the bad field of a registration; 404 evaluating an unknown rule', async () => {
    for (const [body, field] of [
      [{ uri: 'no-version', runtime: 'js', code: 'x' }, 'uri'],
      [{ uri: 'a:v1', runtime: 'lua', code: 'x' }, 'runtime'],
      [{ uri: 'a:v1', runtime: 'js' }, 'code'],
      [{ uri: 'a:v1', runtime: 'js', code: 'x', archive_base64: 'eA==' }, 'code'],
      [{ uri: 'a:v1', runtime: 'remote', remote: { url: 'ftp://x', executor_id: 'e' } }, 'remote.url'],
    ] as const) {
      const res = await gw.request('POST', '/policies', body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.field).toBe(field);
    }
    expect((await gw.request('POST', '/policies/nope:v1/eval', { input: {} })).status).toBe(404);
    expect((await gw.request('POST', `/policies/${ALLOW_ALL}/eval`, {})).status).toBe(400);
  });
});

describe('rules from the AIOS policies system (POLICY_DB_URL)', () => {
  let gw: TestGateway;
  let system: Server;
  let requests: string[];
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ccg-aios-'));
    execFileSync('python3', ['-c', `import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w')\nz.writestr('code/function.py', sys.argv[2])\nz.close()`, path.join(dir, 'rule.zip'), PY_TAGGER]);
    const archive = readFileSync(path.join(dir, 'rule.zip'));
    requests = [];
    system = createServer((req, res) => {
      requests.push(req.url ?? '');
      const port = (system.address() as { port: number }).port;
      if (req.url === '/policy/aios.tagger:v1-stable') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ success: true, data: { policy_rule_uri: 'aios.tagger:v1-stable', code: `http://127.0.0.1:${port}/assets/rule.zip`, policy_parameters: { tag: 'from-aios' }, policy_settings: {} } }));
      }
      if (req.url === '/assets/rule.zip') return res.end(archive);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ success: false, message: 'Policy not found.' }));
    });
    await new Promise<void>((r) => system.listen(0, '127.0.0.1', () => r()));
    gw = await startTestGateway({ worker: false, env: { POLICY_DB_URL: `http://127.0.0.1:${(system.address() as { port: number }).port}` } });
  });
  afterAll(async () => {
    await gw.close();
    await new Promise((r) => system.close(r));
  });

  it('a URI not registered here resolves in the policies system, and its archive runs', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('aios-upd'));
    const map = await setMap(gw, { update_cluster: 'aios.tagger:v1-stable', add_node: 'aios.missing:v1' });
    expect(map.unresolved).toEqual(['aios.missing:v1']);
    const res = await gw.request('PATCH', '/clusters/update/aios-upd', { reputation: 3 });
    expect(res.status).toBe(200);
    expect(res.body.data.tags).toContain('from-aios');
    expect(requests).toContain('/assets/rule.zip');
  });
});
