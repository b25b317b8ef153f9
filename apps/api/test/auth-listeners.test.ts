import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ROUTE_RULES, type RouteRule } from '@ccg/api';
import { ConfigError, loadConfig } from '@ccg/config';
import { sampleCluster, startTestGateway, type TestGateway } from '@ccg/testkit';

const concrete = (rule: RouteRule) => ({ method: rule.method === 'ALL' ? 'GET' : rule.method, path: rule.path.replace(/:[A-Za-z_]+/g, 'listener-x') });
/** The internal listener's own "not served here" answer, as opposed to a handler's 404. */
const notServedHere = (res: { status: number; body: any }) => res.status === 404 && res.body?.error?.details?.listener === 'internal';

describe('external and internal listeners', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false, internal: true });
  });
  afterAll(async () => {
    await gw.close();
  });

  it.each(ROUTE_RULES.map((rule) => [`${rule.method} ${rule.path}`, rule] as const))('%s: on the internal listener only if marked internal, with no token', async (_l, rule) => {
    const { method, path } = concrete(rule);
    const res = await gw.internalRequest(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
    if (rule.internal) {
      expect(notServedHere(res)).toBe(false);
      expect([401, 403]).not.toContain(res.status);
    } else {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND', details: { listener: 'internal' } } });
    }
  });

  it('serves what the management services call, without tokens; the same calls need a key outside', async () => {
    // The Parser registers a cluster and adds a node; a metrics writer reports; the search server reads.
    const created = await gw.internalRequest('POST', '/clusters/create', sampleCluster('internal-1'));
    expect(created.status).toBe(200);
    const report = { cluster: { vcpu: { load1m: 0.5 } }, nodes: [{ id: 'node-1', vcpu: { load1m: 0.5 } }] };
    expect((await gw.internalRequest('POST', '/cluster-metrics/internal-1/report', report)).status).toBe(200);
    expect((await gw.internalRequest('GET', '/cluster-metrics/internal-1')).body.data.cluster).toEqual(report.cluster);
    expect((await gw.internalRequest('GET', '/clusters/read/internal-1')).body.data.id).toBe('internal-1');
    expect((await gw.internalRequest('GET', '/healthz')).status).toBe(200);

    expect((await gw.requestAs(null, 'POST', '/cluster-metrics/internal-1/report', report)).status).toBe(401);
    const reporter = await gw.createKey('reporter');
    expect((await gw.requestAs(reporter.token, 'POST', '/cluster-metrics/internal-1/report', report)).status).toBe(200);
    expect((await gw.requestAs(reporter.token, 'GET', '/cluster-metrics/internal-1')).status).toBe(403);
  });

  it('user and admin routes are not on the internal listener, whatever token is sent', async () => {
    for (const [method, path] of [['POST', '/auth/keys'], ['POST', '/policies'], ['POST', '/pre-check-policies/update'], ['POST', '/admin/diagnostics/tasks'], ['DELETE', '/clusters/delete/internal-1'], ['GET', '/no-such-route']]) {
      const res = await gw.internalRequest(method, path, method === 'POST' ? {} : undefined, gw.authHeaders);
      expect(notServedHere(res)).toBe(true);
    }
    expect((await gw.request('GET', '/clusters/read/internal-1')).status).toBe(200);
  });

  it('records the internal listener as the actor', async () => {
    const row = await gw.db.db.selectFrom('clusters').select(['created_by', 'updated_by']).where('id', '=', 'internal-1').executeTakeFirstOrThrow();
    expect(row).toEqual({ created_by: 'internal', updated_by: 'internal' });
  });
});

describe('listener configuration', () => {
  it('INTERNAL_PORT is optional, validated, and must differ from PORT', () => {
    expect(loadConfig({}).internalPort).toBeUndefined();
    expect(loadConfig({ INTERNAL_PORT: '5001' })).toMatchObject({ internalPort: 5001, internalHost: '0.0.0.0' });
    expect(loadConfig({ INTERNAL_PORT: '5001', HOST: '10.0.0.5', INTERNAL_HOST: '127.0.0.1' })).toMatchObject({ host: '10.0.0.5', internalHost: '127.0.0.1' });
    expect(() => loadConfig({ INTERNAL_PORT: '5000' })).toThrow(/INTERNAL_PORT must differ from PORT/);
    expect(() => loadConfig({ INTERNAL_PORT: 'abc' })).toThrow(ConfigError);
  });

  it('AUTH_DISABLED and GATEWAY_ADMIN_TOKEN are validated', () => {
    expect(loadConfig({}).auth).toEqual({ disabled: false, adminToken: undefined });
    expect(loadConfig({ AUTH_DISABLED: 'true' }).auth.disabled).toBe(true);
    expect(() => loadConfig({ AUTH_DISABLED: 'sometimes' })).toThrow(/AUTH_DISABLED/);
    expect(() => loadConfig({ GATEWAY_ADMIN_TOKEN: 'short' })).toThrow(/GATEWAY_ADMIN_TOKEN/);
    expect(() => loadConfig({ GATEWAY_ADMIN_TOKEN: 'has a space in it, 0123456789' })).toThrow(/GATEWAY_ADMIN_TOKEN/);
    expect(loadConfig({ GATEWAY_ADMIN_TOKEN: 'x'.repeat(32) }).auth.adminToken).toBe('x'.repeat(32));
  });
});
