import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '@ccg/testkit';
import { exampleIsValid } from './lib/mutations.js';
import { ROUTE_SPECS } from './lib/route-specs.js';
import { listRoutes, pathParams, routeKey } from './lib/routes.js';
import { SHARDS, shardsOf } from './lib/shard.js';

describe('fuzz coverage of the router', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
  });
  afterAll(() => gw.close());

  it('finds the routes by walking the real Express router', () => {
    const keys = listRoutes(gw.app).map(routeKey);
    expect(keys).toEqual(expect.arrayContaining(['GET /healthz', 'POST /clusters/create', 'PATCH /clusters/update/:id', 'POST /admin/diagnostics/tasks']));
  });

  it('every route has a fuzz spec, and every spec names a route', () => {
    const keys = listRoutes(gw.app).map(routeKey);
    const missing = keys.filter((k) => !(k in ROUTE_SPECS));
    const stale = Object.keys(ROUTE_SPECS).filter((k) => !keys.includes(k));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('every route is in exactly one fuzz shard', () => {
    const routes = listRoutes(gw.app);
    const shards = shardsOf(routes);
    for (const r of routes) expect(shards.get(routeKey(r))).toBeLessThan(SHARDS);
  });

  it('the spec examples are valid bodies and name only real path parameters', () => {
    const problems: string[] = [];
    for (const [key, spec] of Object.entries(ROUTE_SPECS)) {
      if (spec.body) {
        const ok = exampleIsValid(spec.body.schema, spec.body.example);
        if (ok !== true) problems.push(`${key}: ${ok}`);
      }
      const params = pathParams(key.split(' ')[1]);
      for (const p of Object.keys(spec.params ?? {})) if (!params.includes(p)) problems.push(`${key}: no path parameter ${p}`);
    }
    expect(problems).toEqual([]);
  });
});
