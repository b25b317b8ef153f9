import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import { validate } from '@ccg/contracts';
import type { RawClient, RawRequest, RawResponse } from './client.js';
import { brief, checkInvariants, checkNoPrototypePollution, checkRejected, FuzzFailure, type Rejection } from './expect.js';
import { hostileBodies, hostileHeaders, hostileQuery, hostileSegment } from './hostile.js';
import { toJsonText } from './json-text.js';
import { schemaBodyCases } from './mutations.js';
import { absentParam, type Fixtures, type RouteSpec } from './route-specs.js';
import { pathParams, routeKey, type RouteInfo } from './routes.js';

/**
 * Runs the fuzz properties of one route. The counts add up to CASES_PER_ROUTE; a route without a
 * body schema spends the schema share on more path and query cases.
 */
export const RUNS = { hostileBodies: 300, schemaBodies: 300, pathAndQuery: 200, headers: 200 } as const;
/** FUZZ_PROFILE=1: time spent per case kind, printed after each shard (to keep the run fast). */
export const PROFILE: Record<string, { n: number; ms: number }> | undefined = process.env.FUZZ_PROFILE ? {} : undefined;

export const CASES_PER_ROUTE = RUNS.hostileBodies + RUNS.schemaBodies + RUNS.pathAndQuery + RUNS.headers;

export interface FuzzTarget {
  client: RawClient;
  fixtures: Fixtures;
  bodyLimit: number;
  /** Whether the gateway checks credentials (garbage Authorization must then be a 401). */
  authEnabled: boolean;
  seed?: number;
}

function fillPath(pattern: string, values: Record<string, string>): string {
  return pattern.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => values[name]);
}

/** `ALL <mount>` (a mounted sub-app or static tree) is fuzzed with GET. */
const methodOf = (route: RouteInfo): string => (route.method === 'ALL' ? 'GET' : route.method);

function absentPath(route: RouteInfo, raw: Partial<Record<string, string>> = {}): string {
  const values: Record<string, string> = {};
  for (const p of pathParams(route.path)) values[p] = raw[p] ?? encodeURIComponent(absentParam(p));
  return fillPath(route.path, values);
}

function describe(req: RawRequest, kind: string): string {
  const body = req.body === undefined ? '' : ` body(${req.body.length}B)=${String(req.body).slice(0, 300)}`;
  return `[${kind}] ${req.method} ${req.path.slice(0, 300)}${body}`;
}

async function send(t: FuzzTarget, spec: RouteSpec, req: RawRequest, kind: string, expected?: Rejection): Promise<RawResponse> {
  const started = performance.now();
  const res = await t.client.send(req);
  if (PROFILE) {
    const k = kind.split(' ')[0].replace(/-\d+$/, '');
    const e = (PROFILE[k] ??= { n: 0, ms: 0 });
    e.n++;
    e.ms += performance.now() - started;
  }
  const what = describe(req, kind);
  if (expected) checkRejected(res, expected, what);
  else checkInvariants(res, what, spec.nonJsonSuccess);
  return res;
}

async function bodyPath(t: FuzzTarget, route: RouteInfo, spec: RouteSpec): Promise<string> {
  const values: Record<string, string> = {};
  for (const p of pathParams(route.path)) {
    const v = spec.params?.[p] ? await spec.params[p](t.fixtures) : absentParam(p);
    values[p] = encodeURIComponent(v);
  }
  const path = fillPath(route.path, values);
  return spec.bodyQuery ? `${path}?${spec.bodyQuery}` : path;
}

const assertOpts = (t: FuzzTarget, numRuns: number) => ({ numRuns, seed: t.seed, endOnFailure: true });

/** Route-independent hostile bodies: malformed JSON, wrong content types, deep nesting, `__proto__`, NUL, over the limit. */
export async function fuzzHostileBodies(t: FuzzTarget, route: RouteInfo, spec: RouteSpec, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(hostileBodies(spec.body?.example, t.bodyLimit).map(brief), async (c) => {
      const headers: Record<string, string> = c.contentType ? { 'Content-Type': c.contentType } : {};
      const req: RawRequest = { method: methodOf(route), path: absentPath(route), headers, body: c.body, chunked: c.chunked };
      await send(t, spec, req, c.kind, c.expect);
    }),
    assertOpts(t, numRuns),
  );
}

/** Cases derived from the route's body schema: each one field wrong in a valid example. */
export async function fuzzSchemaBodies(t: FuzzTarget, route: RouteInfo, spec: RouteSpec, numRuns: number): Promise<void> {
  const body = spec.body!;
  await fc.assert(
    fc.asyncProperty(schemaBodyCases(body.schema, body.example, { bodyLimit: t.bodyLimit, fieldAliases: body.fieldAliases }).map(brief), async (c) => {
      const req: RawRequest = { method: methodOf(route), path: await bodyPath(t, route, spec), headers: { 'Content-Type': 'application/json' }, body: c.text };
      await send(t, spec, req, `${c.kind} ${c.field.slice(0, 80)}`, c.expect);
    }),
    assertOpts(t, numRuns),
  );
}

/** Hostile path parameters (absent ids elsewhere) and hostile query strings. */
export async function fuzzPathAndQuery(t: FuzzTarget, route: RouteInfo, spec: RouteSpec, numRuns: number): Promise<void> {
  const params = pathParams(route.path);
  const queryKeys = Object.keys((spec.query as { properties?: object } | undefined)?.properties ?? {});
  // Below a mount every sub-path is the sub-app's: a hostile sub-path is fuzzed like a parameter.
  const segments = route.method === 'ALL' ? ['(sub-path)'] : params;
  const pathCase = segments.length ? fc.record({ param: fc.constantFrom(...segments), seg: hostileSegment }).map((p) => ({ type: 'path' as const, ...p })) : undefined;
  const queryCase = hostileQuery(queryKeys).map((q) => ({ type: 'query' as const, q }));
  const arb = pathCase ? fc.oneof(pathCase, queryCase) : queryCase;
  await fc.assert(
    fc.asyncProperty(arb.map(brief), async (c) => {
      if (c.type === 'path' && route.method === 'ALL') {
        // The sub-app decides what exists below it (bull-board serves its page for any path).
        await send(t, spec, { method: 'GET', path: `${route.path}/${c.seg.raw}` }, `sub-path ${c.seg.kind}`);
        return;
      }
      if (c.type === 'path') {
        // The example body goes along, so the path is the only thing wrong with the request.
        const body = spec.body ? { headers: { 'Content-Type': 'application/json' }, body: toJsonText(spec.body.example) } : {};
        const req: RawRequest = { method: methodOf(route), path: absentPath(route, { [c.param]: c.seg.raw }), ...body };
        // Nothing is named by these: the answer is a 4xx (400, 404, 431...), never a success or a 5xx.
        const expected: Rejection = { status: [400, 401, 403, 404, 405, 409, 414, 422, 431] };
        if (/%00/.test(c.seg.raw) && !/%(?![0-9a-fA-F]{2})/.test(c.seg.raw)) expected.names = [c.param, 'NUL', 'decode'];
        await send(t, spec, req, `path ${c.param}=${c.seg.kind}`, expected);
        return;
      }
      const req: RawRequest = { method: methodOf(route), path: `${absentPath(route)}?${c.q.raw}` };
      await send(t, spec, req, `query ${c.q.key}`, spec.query ? expectedForQuery(spec.query, c.q.raw, c.q.key) : undefined);
    }),
    assertOpts(t, numRuns),
  );
}

/** The query as Express's simple parser (node:querystring) sees it, judged by the route's query schema. */
function expectedForQuery(schema: object, raw: string, key: string): Rejection | undefined {
  const parsed = parseQuery(raw);
  const value = parsed[key];
  if (Array.isArray(value)) return { status: [400], names: [key] };
  if (typeof value === 'string' && value.includes('\u0000')) return { status: [400], names: [key] };
  try {
    validate(schema, { ...parsed }, 'query');
    return undefined;
  } catch {
    return { status: [400], names: [key] };
  }
}

/** Malformed If-Match / Idempotency-Key / Authorization, odd request ids, huge and many headers. */
export async function fuzzHeaders(t: FuzzTarget, route: RouteInfo, spec: RouteSpec, numRuns: number): Promise<void> {
  const authRequired = t.authEnabled && (await requiresAuth(t, route));
  await fc.assert(
    fc.asyncProperty(hostileHeaders.map(brief), async (c) => {
      const req: RawRequest = { method: methodOf(route), path: absentPath(route), headers: c.headers };
      let expected = c.expect;
      if (c.header === 'Authorization' && authRequired) expected = { status: [401], code: 'UNAUTHENTICATED' };
      else if (c.header && c.header !== 'Authorization' && spec.headers?.includes(c.header)) expected = { status: [400], names: [c.header] };
      const res = await send(t, spec, req, c.kind, expected);
      const rid = res.headers['x-request-id'];
      // Requests Node's parser refuses (431, malformed) never reach the app that sets the id.
      const belowTheApp = ['HEADERS_TOO_LARGE', 'MALFORMED_REQUEST'].includes(res.json?.error?.code);
      if (!belowTheApp && (typeof rid !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(rid))) {
        throw new FuzzFailure(`[${c.kind}] ${route.method} ${route.path}: X-Request-Id ${JSON.stringify(rid)} is not a sane id`);
      }
    }),
    assertOpts(t, numRuns),
  );
}

/**
 * Whether the route asks for credentials: a request without any is a 401 (public routes, such as
 * the probes, answer it). Garbage credentials must then be a 401 too.
 */
async function requiresAuth(t: FuzzTarget, route: RouteInfo): Promise<boolean> {
  const res = await t.client.send({ method: methodOf(route), path: absentPath(route), headers: { authorization: '' } });
  if (res.status === 401) checkRejected(res, { status: [401], code: 'UNAUTHENTICATED' }, `${routeKey(route)} without credentials`);
  return res.status === 401;
}

/** Every property of one route, then: the gateway still answers and Object.prototype is clean. */
export async function fuzzRoute(t: FuzzTarget, route: RouteInfo, spec: RouteSpec): Promise<number> {
  await fuzzHostileBodies(t, route, spec, RUNS.hostileBodies);
  if (spec.body) {
    await fuzzSchemaBodies(t, route, spec, RUNS.schemaBodies);
    await fuzzPathAndQuery(t, route, spec, RUNS.pathAndQuery);
  } else {
    await fuzzPathAndQuery(t, route, spec, RUNS.pathAndQuery + RUNS.schemaBodies);
  }
  await fuzzHeaders(t, route, spec, RUNS.headers);
  const health = await t.client.send({ method: 'GET', path: '/healthz' });
  if (health.status !== 200) throw new FuzzFailure(`after fuzzing ${routeKey(route)}: /healthz answered ${health.status}`);
  checkNoPrototypePollution();
  return CASES_PER_ROUTE;
}
