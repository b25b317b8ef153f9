import { afterAll, describe, it } from '@jest/globals';
import { CASES_PER_ROUTE, fuzzRoute, PROFILE, RUNS } from './fuzz-route.js';
import { startFuzzGateway } from './fuzz-gateway.js';
import { ROUTE_SPECS } from './route-specs.js';
import { listRoutes, routeKey, type RouteInfo } from './routes.js';

/**
 * The routes are split over a few test files so Jest can run them in parallel: every SHARDS-th
 * route of the sorted route list, so a new route lands in one of them without any change.
 */
export const SHARDS = 3;

export function shardsOf(routes: RouteInfo[]): Map<string, number> {
  const keys = routes.map(routeKey).sort();
  return new Map(keys.map((k, i) => [k, i % SHARDS]));
}

const breakdown = (hasBody: boolean) =>
  hasBody
    ? `${RUNS.hostileBodies} hostile bodies + ${RUNS.schemaBodies} schema-derived bodies + ${RUNS.pathAndQuery} path/query + ${RUNS.headers} headers`
    : `${RUNS.hostileBodies} hostile bodies + ${RUNS.pathAndQuery + RUNS.schemaBodies} path/query + ${RUNS.headers} headers`;

/** Defines the fuzz tests of one shard (top-level await: the routes come from the running app). */
export async function defineFuzzShard(index: number): Promise<void> {
  const fz = await startFuzzGateway();
  const all = listRoutes(fz.gw.app);
  const shards = shardsOf(all);
  const routes = all.filter((r) => shards.get(routeKey(r)) === index);
  afterAll(async () => {
    if (PROFILE) {
      const rows = Object.entries(PROFILE).sort((a, b) => b[1].ms - a[1].ms);
      process.stderr.write(rows.map(([k, v]) => `${k.padEnd(28)} ${String(v.n).padStart(6)} cases ${(v.ms / 1000).toFixed(1).padStart(7)} s ${(v.ms / v.n).toFixed(2).padStart(7)} ms/case`).join('\n') + '\n');
    }
    await fz.close();
  });
  describe(`bad input, shard ${index + 1}/${SHARDS}: every route ${CASES_PER_ROUTE} cases`, () => {
    for (const route of routes) {
      const spec = ROUTE_SPECS[routeKey(route)] ?? {};
      it(`${routeKey(route)}: ${CASES_PER_ROUTE} cases (${breakdown(!!spec.body)})`, async () => {
        await fuzzRoute(fz.target, route, spec);
      }, 180_000);
    }
  });
}
