/**
 * The route table: which roles may call each route on the external listener, and which routes
 * the internal listener serves (to the management services, without tokens). The auth
 * middleware reads it; docs/AUTH.md shows it (a test keeps the two equal, and another fails
 * when a route in the Express router has no entry here).
 */
import type { Role } from '@ccg/contracts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ALL';
export type Listener = 'external' | 'internal';

/** `public`: no token on the external listener; otherwise the roles allowed there. */
export type Access = 'public' | readonly Role[];

export interface RouteRule {
  method: Method;
  /** The path as mounted in Express (`:name` is one path segment). */
  path: string;
  /** A mounted sub-app: the path and everything under it. */
  prefix?: boolean;
  access: Access;
  /** Also served on the internal listener (INTERNAL_PORT), where no token is asked. */
  internal: boolean;
  /** A page for browsers: a 401 also offers Basic auth (any user name, the token as password). */
  browser?: boolean;
  /** Who calls it, when that is why it is on the internal listener. */
  caller?: string;
}

// Role groups. admin may do everything; operator includes every read; parser gets what the
// Parser calls plus the reads it needs; reporter only pushes metrics; viewer reads.
const ADMIN: readonly Role[] = ['admin'];
const OPERATE: readonly Role[] = ['admin', 'operator'];
const PARSER: readonly Role[] = ['admin', 'operator', 'parser'];
const READ: readonly Role[] = ['admin', 'operator', 'viewer'];
const READ_PARSER: readonly Role[] = ['admin', 'operator', 'parser', 'viewer'];
const REPORT: readonly Role[] = ['admin', 'operator', 'reporter'];
const ANY_ROLE: readonly Role[] = ['admin', 'operator', 'parser', 'reporter', 'viewer'];

const PARSER_CALL = 'Parser';
const SEARCH = 'search server';
const MEMBERSHIP = 'membership server, node onboarding';
const WRITER = "clusters' metrics writers";
const PROBE = 'probes';

const r = (method: Method, path: string, access: Access, internal = false, extra: Partial<RouteRule> = {}): RouteRule => ({ method, path, access, internal, ...extra });

export const ROUTE_RULES: readonly RouteRule[] = [
  // Probes, metrics, API description
  r('GET', '/healthz', 'public', true, { caller: PROBE }),
  r('GET', '/readyz', 'public', true, { caller: PROBE }),
  r('GET', '/metrics', READ, true, { caller: 'Prometheus' }),
  r('GET', '/openapi.json', 'public'),
  r('ALL', '/docs', 'public', false, { prefix: true, browser: true }),

  // API keys
  r('POST', '/auth/keys', ADMIN),
  r('GET', '/auth/keys', ADMIN),
  r('DELETE', '/auth/keys/:id', ADMIN),
  r('GET', '/auth/whoami', ANY_ROLE),

  // Cluster registry (spec §1)
  r('POST', '/clusters/create', PARSER, true, { caller: PARSER_CALL }),
  r('GET', '/clusters/read/:id', READ_PARSER, true, { caller: `${SEARCH}, ${MEMBERSHIP}` }),
  r('GET', '/clusters', READ_PARSER, true, { caller: SEARCH }),
  r('POST', '/clusters/query', READ_PARSER, true, { caller: SEARCH }),
  r('PATCH', '/clusters/update/:id', OPERATE, true, { caller: MEMBERSHIP }),
  r('PUT', '/clusters/update/:id', OPERATE, true, { caller: MEMBERSHIP }),
  r('DELETE', '/clusters/delete/:id', OPERATE),

  // Cluster infrastructure
  r('POST', '/create-cluster-infra', ADMIN),
  r('POST', '/remove-cluster-infra', ADMIN),

  // Metrics (spec §2)
  r('GET', '/cluster-metrics/:clusterId', READ_PARSER, true, { caller: SEARCH }),
  r('GET', '/cluster-metrics/node/:clusterId/:nodeId', READ_PARSER, true, { caller: SEARCH }),
  r('POST', '/cluster-metrics/:clusterId/node/query', READ_PARSER, true, { caller: SEARCH }),
  r('POST', '/cluster-metrics/:clusterId/report', REPORT, true, { caller: WRITER }),

  // Nodes (spec §8) and the membership proxies
  r('POST', '/nodes/add-node-to-cluster/:clusterId', PARSER, true, { caller: `${PARSER_CALL}, ${MEMBERSHIP}` }),
  r('GET', '/nodes/remove-node-from-cluster/:clusterId/:nodeId', OPERATE, true, { caller: MEMBERSHIP }),
  r('DELETE', '/nodes/remove-node-from-cluster/:clusterId/:nodeId', OPERATE, true, { caller: MEMBERSHIP }),
  r('POST', '/pre-checks/add-node/:clusterId', OPERATE, true, { caller: MEMBERSHIP }),
  r('POST', '/join-node/:clusterId', OPERATE, true, { caller: MEMBERSHIP }),
  r('POST', '/pre-checks/remove-node/:clusterId', OPERATE, true, { caller: MEMBERSHIP }),
  r('POST', '/remove-node/:clusterId', OPERATE, true, { caller: MEMBERSHIP }),
  r('GET', '/sync-cluster/:clusterId', OPERATE, true, { caller: MEMBERSHIP }),

  // Per-cluster operations (spec §3, §5, §6, §7) and the original controller proxies
  r('POST', '/controller/block-scaling/:clusterId', OPERATE),
  r('POST', '/controller/createBlock/:clusterId', OPERATE),
  r('POST', '/controller/resourceAllocation/:clusterId', OPERATE),
  r('POST', '/controller/removeBlock/:clusterId', OPERATE),
  r('POST', '/controller/removeInstance/:clusterId', OPERATE),
  r('POST', '/controller/reassign-instance/:clusterId', OPERATE),
  r('POST', '/initContainer/initCreateStatusUpdate/:clusterId', OPERATE),
  r('POST', '/initContainer/queryInitContainerData/:clusterId', OPERATE),
  r('POST', '/vdag-controller/:clusterId', OPERATE),
  r('POST', '/blocks/mgmt', PARSER, true, { caller: PARSER_CALL }),
  r('POST', '/cluster/mgmt', OPERATE),

  // Blocks and placement
  r('GET', '/blocks', READ_PARSER, true, { caller: SEARCH }),
  r('GET', '/blocks/:id', READ_PARSER, true, { caller: SEARCH }),
  r('DELETE', '/blocks/:id', PARSER),
  r('POST', '/blockActions/dryRun', PARSER, true, { caller: PARSER_CALL }),
  r('POST', '/blockActions/selectClusters', PARSER, true, { caller: PARSER_CALL }),
  r('POST', '/blockActions/allocate', PARSER, true, { caller: PARSER_CALL }),
  r('POST', '/blockActions/deallocate', PARSER, true, { caller: PARSER_CALL }),

  // Tasks
  r('GET', '/tasks/:id', READ_PARSER, true, { caller: 'AIOS task pollers' }),
  r('GET', '/task/:id', READ_PARSER, true, { caller: 'AIOS task pollers' }),
  r('GET', '/tasks', READ),
  r('GET', '/tasks/:id/events', READ_PARSER),
  r('POST', '/tasks/:id/cancel', OPERATE),
  r('POST', '/tasks/:id/retry', OPERATE),
  r('POST', '/admin/diagnostics/tasks', ADMIN),
  r('ALL', '/admin/queues', ADMIN, false, { prefix: true, browser: true }),

  // Pre-check policies
  r('POST', '/policies', ADMIN),
  r('GET', '/policies', READ),
  r('GET', '/policies/:uri', READ),
  r('DELETE', '/policies/:uri', ADMIN),
  r('POST', '/policies/:uri/eval', ADMIN),
  r('GET', '/pre-check-policies', READ),
  r('GET', '/pre-check-policies/get', READ),
  r('POST', '/pre-check-policies/update', ADMIN),
  r('GET', '/pre-check-policies/history', READ),
  r('GET', '/pre-check-policies/decisions', READ),
];

/** Unlisted routes (or unknown paths) need admin on the external listener: the table fails closed. */
export const UNLISTED_ACCESS: readonly Role[] = ADMIN;

// --- matching (mirrors Express: case-insensitive, an optional trailing slash) ---

interface Compiled {
  rule: RouteRule;
  segments: string[];
}

const segmentsOf = (path: string): string[] => {
  const parts = path.toLowerCase().split('/').slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
};

const COMPILED: Compiled[] = ROUTE_RULES.map((rule) => ({ rule, segments: segmentsOf(rule.path) }));

/**
 * The entries that can match a path, by its first segment (every entry's first segment is a
 * literal): a request is checked against a handful of entries, not the whole table.
 */
const BY_FIRST_SEGMENT = new Map<string, Compiled[]>();
for (const c of COMPILED) {
  const first = c.segments[0] ?? '';
  if (first.startsWith(':')) throw new Error(`route table entry ${c.rule.path}: the first segment must be a literal`);
  BY_FIRST_SEGMENT.set(first, [...(BY_FIRST_SEGMENT.get(first) ?? []), c]);
}

function pathMatches(c: Compiled, actual: string[]): boolean {
  if (c.rule.prefix ? actual.length < c.segments.length : actual.length !== c.segments.length) return false;
  return c.segments.every((seg, i) => (seg.startsWith(':') ? actual[i] !== '' : seg === actual[i]));
}

function methodMatches(rule: RouteRule, method: string): boolean {
  return rule.method === 'ALL' || rule.method === method || (method === 'HEAD' && rule.method === 'GET');
}

/** Every table entry matching a request (usually one; a literal and a `:param` path may both match). */
export function rulesFor(method: string, path: string): RouteRule[] {
  const actual = segmentsOf(path);
  const upper = method.toUpperCase();
  const candidates = BY_FIRST_SEGMENT.get(actual[0] ?? '') ?? [];
  return candidates.filter((c) => methodMatches(c.rule, upper) && pathMatches(c, actual)).map((c) => c.rule);
}

/** Shared between requests (see accessFor): read only. */
export interface Decision {
  /** `public`, or the roles allowed: when several entries match, only roles every one allows. */
  readonly access: Access;
  readonly rules: readonly RouteRule[];
  readonly browser: boolean;
}

/** Recent decisions by method and path (every request asks; ids repeat). Emptied when full; long paths are not kept. */
const recentDecisions = new Map<string, Decision>();
const RECENT_DECISIONS_MAX = 4096;
const RECENT_PATH_MAX = 256;

export function accessFor(method: string, path: string): Decision {
  const key = `${method} ${path}`;
  let decision = recentDecisions.get(key);
  if (!decision) {
    decision = decide(method, path);
    if (path.length > RECENT_PATH_MAX) return decision;
    if (recentDecisions.size >= RECENT_DECISIONS_MAX) recentDecisions.clear();
    recentDecisions.set(key, decision);
  }
  return decision;
}

function decide(method: string, path: string): Decision {
  const rules = rulesFor(method, path);
  if (rules.length === 0) return { access: UNLISTED_ACCESS, rules, browser: false };
  let access: Access = 'public';
  for (const rule of rules) {
    if (rule.access === 'public') continue;
    access = access === 'public' ? rule.access : access.filter((role) => (rule.access as readonly Role[]).includes(role));
  }
  return { access, rules, browser: rules.some((rule) => rule.browser) };
}

/** The internal listener serves a request only when every matching entry is marked internal. */
export function servedInternally(method: string, path: string): boolean {
  const rules = rulesFor(method, path);
  return rules.length > 0 && rules.every((rule) => rule.internal);
}

// --- the documentation table ---

export const DOC_BEGIN = '<!-- route-roles:begin (generated from apps/api/src/auth/route-roles.ts: node scripts/auth-docs.mjs) -->';
export const DOC_END = '<!-- route-roles:end -->';

/** The Markdown table docs/AUTH.md shows between DOC_BEGIN and DOC_END. */
export function renderRouteTable(): string {
  const lines = ['| Method | Path | External listener | Internal listener |', '|---|---|---|---|'];
  for (const rule of ROUTE_RULES) {
    const path = rule.prefix ? `\`${rule.path}\` and below` : `\`${rule.path}\``;
    const access = rule.access === 'public' ? 'public' : rule.access.join(', ');
    const internal = rule.internal ? `yes${rule.caller ? ` (${rule.caller})` : ''}` : '—';
    lines.push(`| ${rule.method === 'ALL' ? 'any' : rule.method} | ${path} | ${access} | ${internal} |`);
  }
  return lines.join('\n');
}
