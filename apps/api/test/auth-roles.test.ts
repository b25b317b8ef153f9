import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ROLES, type Role } from '@ccg/contracts';
import { DOC_BEGIN, DOC_END, ROUTE_RULES, accessFor, listRoutes, renderRouteTable, rulesFor, type RouteRule } from '@ccg/api';
import { repoRoot, startTestGateway, type TestGateway, type TestKey } from '@ccg/testkit';

/** A concrete request for a table entry: `:params` filled in, `ALL` sent as GET. */
function requestOf(rule: RouteRule): { method: string; path: string } {
  return { method: rule.method === 'ALL' ? 'GET' : rule.method, path: rule.path.replace(/:[A-Za-z_]+/g, 'auth-walk-x') };
}

const label = (rule: RouteRule) => `${rule.method} ${rule.path}${rule.prefix ? '/*' : ''}`;
const isRoleRefusal = (res: { status: number; body: any }) => res.status === 403 && res.body?.error?.code === 'FORBIDDEN';

describe('route → role table', () => {
  let gw: TestGateway;
  const keys = {} as Record<Role, TestKey>;

  beforeAll(async () => {
    // No workers: allowed requests run their handlers, and a started task need not run.
    gw = await startTestGateway({ worker: false });
    for (const role of ROLES) keys[role] = await gw.createKey(role, `walk-${role}`);
  });
  afterAll(async () => {
    await gw.close();
  });

  describe.each(ROUTE_RULES.map((rule) => [label(rule), rule] as const))('%s', (_label, rule) => {
    const { method, path: p } = requestOf(rule);
    // Every body is an empty object: it reaches the handler only when auth let it through.
    const body = method === 'GET' || method === 'DELETE' ? undefined : {};

    if (rule.access === 'public') {
      it('is public: no token is needed', async () => {
        const res = await gw.requestAs(null, method, p, body);
        expect([401, 403]).not.toContain(res.status);
      });
      return;
    }
    const allowed = rule.access;

    it('without a token: 401 in the error envelope, with WWW-Authenticate: Bearer', async () => {
      const res = await gw.requestAs(null, method, p, body);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ success: false, error: { code: 'UNAUTHENTICATED' } });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="ccg"/);
    });

    it('with an unknown token: 401 invalid_token', async () => {
      const res = await gw.requestAs('ccg_not-a-key-0000000000000000000000000000000', method, p, body);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    const refused = ROLES.filter((role) => !allowed.includes(role));
    if (refused.length) it.each(refused)('role %s: 403 FORBIDDEN', async (role) => {
      const res = await gw.requestAs(keys[role].token, method, p, body);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ success: false, error: { code: 'FORBIDDEN', details: { role } } });
    });

    it.each([...allowed])('role %s: passes authentication', async (role) => {
      const res = await gw.requestAs(keys[role].token, method, p, body);
      expect(res.status).not.toBe(401);
      expect(isRoleRefusal(res)).toBe(false);
    });
  });

  it('a path in no entry needs admin (the table fails closed), then answers 404', async () => {
    expect((await gw.requestAs(null, 'GET', '/no-such-route')).status).toBe(401);
    expect(isRoleRefusal(await gw.requestAs(keys.operator.token, 'GET', '/no-such-route'))).toBe(true);
    const admin = await gw.request('GET', '/no-such-route');
    expect(admin.status).toBe(404);
  });

  it('keeps the answer per method and path once decided: a repeat of one path is not another method\'s answer', async () => {
    const path = '/auth/keys/k_0123456789ab';
    expect(accessFor('DELETE', path).access).toEqual(['admin']);
    // The same path again by another method (and again), including over the kept-path length.
    expect(accessFor('GET', path).access).toEqual(['admin']); // unlisted: fails closed
    expect(accessFor('DELETE', path)).toBe(accessFor('DELETE', path));
    const readPath = '/clusters/read/abc';
    expect(accessFor('GET', readPath).access).toEqual(expect.arrayContaining(['viewer', 'operator']));
    expect(accessFor('DELETE', readPath).access).toEqual(['admin']);
    const longId = 'x'.repeat(400);
    expect(accessFor('GET', `/clusters/read/${longId}`).access).toEqual(accessFor('GET', readPath).access);
    for (let i = 0; i < 5000; i++) accessFor('GET', `/clusters/read/c-${i}`); // past the kept count
    expect(accessFor('GET', readPath).access).toEqual(expect.arrayContaining(['viewer', 'operator']));
    expect(await gw.requestAs(keys.viewer.token, 'GET', '/clusters/read/nope').then((r) => r.status)).toBe(404);
    expect(isRoleRefusal(await gw.requestAs(keys.viewer.token, 'DELETE', '/clusters/delete/nope'))).toBe(true);
  });

  it('matches paths as Express does: case-insensitively, with a trailing slash, HEAD as GET', async () => {
    expect(rulesFor('GET', '/CLUSTERS/read/abc/').map((r) => r.path)).toEqual(['/clusters/read/:id']);
    expect(rulesFor('HEAD', '/tasks/abc').map((r) => r.path)).toEqual(['/tasks/:id']);
    expect(rulesFor('GET', '/admin/queues/api/queues').map((r) => r.path)).toEqual(['/admin/queues']);
    expect(rulesFor('GET', '/admin/queuesx')).toEqual([]);
    // A differently cased path gets the same answer as the route Express runs for it.
    const res = await gw.requestAs(keys.viewer.token, 'POST', '/Clusters/Create', {});
    expect(isRoleRefusal(res)).toBe(true);
  });

  it('a browser page offers Basic auth on 401 and accepts the token as the Basic password', async () => {
    const res = await gw.requestAs(null, 'GET', '/admin/queues');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/Basic realm="ccg"/);
    const basic = `Basic ${Buffer.from(`anyone:${gw.adminToken}`).toString('base64')}`;
    const viaBasic = await gw.request('GET', '/auth/keys', undefined, { Authorization: basic });
    expect(viaBasic.status).toBe(200);
  });

  it('every route of the Express router has an entry for its method and path', () => {
    const routes = listRoutes(gw.app);
    expect(routes.length).toBeGreaterThan(50);
    const missing = routes.filter((route) => {
      // A route under a prefix entry (a sub-app, static files) is covered by that entry.
      const candidates = rulesFor(route.method === 'ALL' ? 'GET' : route.method, route.path.replace(/:[A-Za-z_]+/g, 'x'));
      return !candidates.some((rule) => rule.prefix || (!route.prefix && rule.method === route.method && rule.path.toLowerCase() === route.path.toLowerCase()));
    });
    expect(missing).toEqual([]);
  });

  it('docs/AUTH.md shows exactly the table in the code', async () => {
    const doc = await readFile(path.join(repoRoot(), 'docs/AUTH.md'), 'utf8');
    const begin = doc.indexOf(DOC_BEGIN);
    const end = doc.indexOf(DOC_END);
    expect(begin).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(begin);
    expect(doc.slice(begin + DOC_BEGIN.length, end).trim()).toBe(renderRouteTable());
  });
});
