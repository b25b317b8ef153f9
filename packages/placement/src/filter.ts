import { InputError, type Page } from '@ccg/contracts';
import {
  explainExclusions,
  filterClusterIds,
  filterClusters,
  isNumericLike,
  type ClusterFilter,
  type ClusterRow,
  type Database,
  type ExclusionReport,
  type FilterComparison,
  type FilterNode,
  type FilterOperator,
  type FilterScalar,
  type PageRequest,
} from '@ccg/db';
import type { Kysely } from 'kysely';

export type {
  ClusterFilter,
  FilterNode,
  FilterGroup,
  FilterLeaf,
  FilterAggregate,
  FilterOperator,
  FilterComparison,
  FilterAggOperator,
  FilterScalar,
  ExclusionReport,
  ConditionExclusion,
} from '@ccg/db';

/**
 * The placement filter language (reference §2.7, neighbours §4.3): validation and variable
 * normalisation. SQL compilation is @ccg/db's `filter-sql.ts`. See docs/ARCHITECTURE.md
 * "Placement filters" for the semantics.
 */

export const MAX_PATH_DEPTH = 10;
export const MAX_NESTING = 10;
export const MAX_CONDITIONS = 200;
export const MAX_IN_VALUES = 1000;

const COMPARISONS: readonly FilterComparison[] = ['==', '!=', '<', '<=', '>', '>='];
const OPERATORS: readonly FilterOperator[] = [...COMPARISONS, 'IN', 'LIKE'];
const AGG_OPERATORS = ['count', 'avg', 'sum', 'min', 'max'] as const;
const SEGMENT = /^[A-Za-z0-9_]+$/;

/** `nodeQuery`: one node metrics document at a time (POST /cluster-metrics/:id/node/query). */
type Query = 'clusterQuery' | 'clusterMetricsQuery' | 'nodeQuery';
const QUERIES: readonly ('clusterQuery' | 'clusterMetricsQuery')[] = ['clusterQuery', 'clusterMetricsQuery'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is FilterScalar =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

const bad = (field: string, message: string): never => {
  throw new InputError(`invalid filter: ${field} ${message}`, { field });
};

/**
 * Spec spellings → stored metric keys (reference §5.2 [DIFF]): a segment `load_<n>m` becomes
 * `load<n>m` (`cluster.vcpu.load_15m` → `cluster.vcpu.load15m`), and a node path written as the
 * local store nests it (`nodes.metrics.resource.node.<x>`) becomes the flat node document's `nodes.<x>`.
 */
export function normaliseMetricsPath(path: string): string {
  let segs = path.split('.').map((s) => s.replace(/^load_(\d+)m$/, 'load$1m'));
  if (segs[0] === 'nodes' && segs.slice(1, 4).join('.') === 'metrics.resource.node') segs = ['nodes', ...segs.slice(4)];
  return segs.join('.');
}

function checkPath(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') return bad(field, 'must be a non-empty dotted path');
  const segs = v.split('.');
  if (segs.length > MAX_PATH_DEPTH) bad(field, `is deeper than ${MAX_PATH_DEPTH} segments`);
  if (!segs.every((s) => SEGMENT.test(s))) bad(field, 'must be dot-separated segments of letters, digits and _');
  return v;
}

function checkKeys(node: Record<string, unknown>, allowed: string[], field: string): void {
  for (const k of Object.keys(node)) if (!allowed.includes(k)) bad(`${field}.${k}`, `is not a known key (expected ${allowed.join(', ')})`);
}

interface Budget {
  conditions: number;
}

function parseNode(raw: unknown, query: Query, field: string, depth: number, budget: Budget): FilterNode {
  if (!isObject(raw)) return bad(field, 'must be an object (a condition or an AND/OR group)');
  if (++budget.conditions > MAX_CONDITIONS) bad(field, `makes the filter longer than ${MAX_CONDITIONS} conditions`);

  if ('logicalOperator' in raw) {
    checkKeys(raw, ['logicalOperator', 'conditions'], field);
    if (raw.logicalOperator !== 'AND' && raw.logicalOperator !== 'OR') bad(`${field}.logicalOperator`, 'must be "AND" or "OR"');
    if (depth >= MAX_NESTING) bad(field, `nests deeper than ${MAX_NESTING} groups`);
    if (!Array.isArray(raw.conditions) || raw.conditions.length === 0) bad(`${field}.conditions`, 'must be a non-empty array');
    const conditions = (raw.conditions as unknown[]).map((c, i) => parseNode(c, query, `${field}.conditions.${i}`, depth + 1, budget));
    return { logicalOperator: raw.logicalOperator as 'AND' | 'OR', conditions };
  }

  if ('aggOperator' in raw) {
    checkKeys(raw, ['aggOperator', 'target', 'operator', 'value'], field);
    if (query !== 'clusterMetricsQuery') bad(`${field}.aggOperator`, 'is only allowed in clusterMetricsQuery');
    if (!AGG_OPERATORS.includes(raw.aggOperator as never)) bad(`${field}.aggOperator`, `must be one of ${AGG_OPERATORS.join(', ')}`);
    const target = normaliseMetricsPath(checkPath(raw.target, `${field}.target`));
    const segs = target.split('.');
    if (segs[0] !== 'nodes') bad(`${field}.target`, 'must be "nodes" or a path under "nodes." (the node metrics documents)');
    if (segs.length === 1 && raw.aggOperator !== 'count') bad(`${field}.target`, `must name a field under "nodes." for ${String(raw.aggOperator)}`);
    if (!COMPARISONS.includes(raw.operator as FilterComparison)) bad(`${field}.operator`, `must be one of ${COMPARISONS.join(' ')} for an aggregate`);
    if (!isNumericLike(raw.value)) bad(`${field}.value`, 'must be a number (or a numeric string) for an aggregate');
    return { aggOperator: raw.aggOperator as (typeof AGG_OPERATORS)[number], target, operator: raw.operator as FilterComparison, value: raw.value as number | string };
  }

  checkKeys(raw, ['variable', 'operator', 'value'], field);
  let variable = checkPath(raw.variable, `${field}.variable`);
  if (query === 'clusterMetricsQuery') {
    variable = normaliseMetricsPath(variable);
    const head = variable.split('.')[0];
    if (head === 'nodes') bad(`${field}.variable`, 'cannot name node metrics directly; use an aggregate condition (aggOperator, target "nodes.<path>")');
    if (variable !== 'clusterId' && (head !== 'cluster' || variable === 'cluster')) bad(`${field}.variable`, 'must be "clusterId" or a path under "cluster." (the cluster metrics)');
  }
  if (query === 'nodeQuery') {
    // Node documents are flat (`vcpu.load15m`); `nodes.` and the stored nesting are accepted too.
    variable = normaliseMetricsPath(variable.startsWith('nodes.') ? variable : `nodes.${variable}`).slice('nodes.'.length);
    if (variable === '') bad(`${field}.variable`, 'must name a field of the node metrics document');
  }
  const operator = raw.operator as FilterOperator;
  if (!OPERATORS.includes(operator)) bad(`${field}.operator`, `must be one of ${OPERATORS.join(' ')}`);
  if (!('value' in raw)) bad(`${field}.value`, 'is required');
  const value = raw.value;
  if (operator === 'IN') {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN_VALUES) bad(`${field}.value`, `must be a non-empty array of at most ${MAX_IN_VALUES} values for IN`);
    (value as unknown[]).forEach((v, i) => isScalar(v) || bad(`${field}.value.${i}`, 'must be a string, number, boolean or null'));
  } else if (operator === 'LIKE') {
    if (typeof value !== 'string') bad(`${field}.value`, 'must be a string (SQL LIKE pattern with % and _) for LIKE');
  } else if (operator === '==' || operator === '!=') {
    if (!isScalar(value)) bad(`${field}.value`, `must be a string, number, boolean or null for ${operator}`);
  } else if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
    bad(`${field}.value`, `must be a number or a string for ${operator}`);
  }
  return { variable, operator, value: value as FilterScalar | FilterScalar[] };
}

/**
 * Validates and normalises `{clusterQuery?, clusterMetricsQuery?}`; throws InputError (400) whose
 * `details.field` names the bad condition, e.g. `filter.clusterQuery.conditions.1.operator`.
 */
export function parseClusterFilter(raw: unknown, field = 'filter'): ClusterFilter {
  if (!isObject(raw)) return bad(field, 'must be an object with clusterQuery and/or clusterMetricsQuery');
  checkKeys(raw, [...QUERIES], field);
  const out: ClusterFilter = {};
  const budget: Budget = { conditions: 0 };
  for (const q of QUERIES) if (raw[q] !== undefined) out[q] = parseNode(raw[q], q, `${field}.${q}`, 0, budget);
  if (!out.clusterQuery && !out.clusterMetricsQuery) bad(field, 'must have clusterQuery and/or clusterMetricsQuery');
  return out;
}

/**
 * Validates a filter over single node metrics documents (`{logicalOperator, conditions}` or one
 * condition; no aggregates); throws InputError naming the bad condition.
 */
export function parseNodeFilter(raw: unknown, field = 'body'): FilterNode {
  return parseNode(raw, 'nodeQuery', field, 0, { conditions: 0 });
}

/** Validated filter → one page of matching cluster rows (ordered by id). */
export async function queryClusters(db: Kysely<Database>, raw: unknown, page: PageRequest): Promise<Page<ClusterRow>> {
  return filterClusters(db, parseClusterFilter(raw), page);
}

/** Validated filter → every matching cluster id, optionally among `ids`. */
export async function matchingClusterIds(db: Kysely<Database>, raw: unknown, ids?: string[]): Promise<string[]> {
  return filterClusterIds(db, parseClusterFilter(raw), ids);
}

/** Validated filter → per top-level condition, the clusters it excludes (dry run explanations). */
export async function explainFilter(db: Kysely<Database>, raw: unknown, ids?: string[]): Promise<ExclusionReport> {
  return explainExclusions(db, parseClusterFilter(raw), ids);
}
