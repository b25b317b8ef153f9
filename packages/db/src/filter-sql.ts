import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Page } from '@ccg/contracts';
import type { ClusterRow, Database } from './schema.js';
import { decodeCursor, toPage, type PageRequest } from './pagination.js';

/**
 * SQL compiler of the placement filter language (the language itself, its validation and its
 * variable normalisation live in @ccg/placement; this module trusts a validated filter).
 * Every user value and every path segment is a bound parameter; only operator keywords from the
 * fixed maps below and constants of this file are spliced into the text.
 */

export type FilterComparison = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type FilterOperator = FilterComparison | 'IN' | 'LIKE';
export type FilterAggOperator = 'count' | 'avg' | 'sum' | 'min' | 'max';
export type FilterScalar = string | number | boolean | null;

export interface FilterLeaf {
  variable: string;
  operator: FilterOperator;
  value: FilterScalar | FilterScalar[];
}
export interface FilterAggregate {
  aggOperator: FilterAggOperator;
  /** `nodes` or `nodes.<path in a node document>`. */
  target: string;
  operator: FilterComparison;
  value: number | string;
}
export interface FilterGroup {
  logicalOperator: 'AND' | 'OR';
  conditions: FilterNode[];
}
export type FilterNode = FilterGroup | FilterLeaf | FilterAggregate;

export interface ClusterFilter {
  /** Applies to the cluster document (`clusters.doc`). */
  clusterQuery?: FilterNode;
  /** Applies to the latest metrics (`cluster_metrics`): `cluster.<path>`, `clusterId`, aggregates over `nodes`. */
  clusterMetricsQuery?: FilterNode;
}

/** Numbers as JSON numbers or as strings (`"10"`); the exponent is capped so a cast never overflows. */
export const NUMERIC_PATTERN = '^\\s*[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]{1,3})?\\s*$';
const NUMERIC_RE = new RegExp(NUMERIC_PATTERN);

export function isNumericLike(v: unknown): v is number | string {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && NUMERIC_RE.test(v));
}

/**
 * jsonb → numeric for numbers and numeric-looking strings, else NULL. Migration 0004 indexes this
 * exact expression on hot paths: keep the two in step (the planner matches expressions verbatim).
 * (A plpgsql function declared expensive was tried to force index use: slower, and it drew JIT.)
 */
export function jsonbNumeric(f: RawBuilder<unknown>): RawBuilder<string | null> {
  return sql`(case when (${f} #>> '{}') ~ ${sql.lit(NUMERIC_PATTERN)} then (${f} #>> '{}')::numeric end)`;
}

/** jsonb → text for strings, numbers and booleans, else NULL. Indexed like jsonbNumeric. */
export function jsonbText(f: RawBuilder<unknown>): RawBuilder<string | null> {
  return sql`(case when jsonb_typeof(${f}) in ('string', 'number', 'boolean') then ${f} #>> '{}' end)`;
}

const SQL_OP: Record<FilterComparison, string> = { '==': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const AGG_FN: Record<FilterAggOperator, string> = { count: 'count', avg: 'avg', sum: 'sum', min: 'min', max: 'max' };

interface Target {
  /** The field as jsonb (SQL NULL when missing). */
  value: RawBuilder<unknown>;
}

export const isGroup = (n: FilterNode): n is FilterGroup => 'logicalOperator' in n;
export const isAggregate = (n: FilterNode): n is FilterAggregate => 'aggOperator' in n;

/** What a filter reads: cluster documents (`c`), cluster metrics (`m`) or one node metrics document (`nd.node`). */
export type FilterScope = 'cluster' | 'metrics' | 'node';

function target(scope: FilterScope, variable: string): Target {
  const segs = variable.split('.');
  if (scope === 'cluster') return { value: sql`c.doc #> ${segs}::text[]` };
  if (scope === 'node') return { value: sql`nd.node #> ${segs}::text[]` };
  if (variable === 'clusterId') return { value: sql`to_jsonb(m.cluster_id)` };
  const rest = segs.slice(1); // after "cluster."
  return { value: sql`m.cluster #> ${rest}::text[]` };
}

const numeric = (v: number | string) => sql`${String(v).trim()}::numeric`;

function compareLeaf(t: Target, op: FilterOperator, value: FilterLeaf['value']): RawBuilder<boolean> {
  if (op === '!=') return sql`(not coalesce(${compareLeaf(t, '==', value)}, false))`;
  if (op === 'LIKE') return sql`(${jsonbText(t.value)} like ${String(value)})`;
  if (op === 'IN') {
    const items = value as FilterScalar[];
    const nums = items.filter(isNumericLike).map((v) => String(v).trim());
    const others = items.filter((v) => !isNumericLike(v)).map((v) => JSON.stringify(v));
    const parts: RawBuilder<boolean>[] = [];
    if (nums.length) parts.push(sql`${jsonbNumeric(t.value)} = any(${nums}::numeric[])`);
    if (others.length) parts.push(sql`${t.value} = any(${others}::jsonb[])`);
    return parts.length ? sql`(${sql.join(parts, sql` or `)})` : sql`false`;
  }
  const v = value as FilterScalar;
  if (isNumericLike(v)) return sql`(${jsonbNumeric(t.value)} ${sql.raw(SQL_OP[op])} ${numeric(v)})`;
  // Booleans and null: JSON equality.
  if (typeof v !== 'string') return op === '==' ? sql`(${t.value} = ${JSON.stringify(v)}::jsonb)` : sql`false`;
  // Equality stays in the default collation so text expression indexes serve it.
  if (op === '==') return sql`(${jsonbText(t.value)} = ${v})`;
  // Ordering on a non-numeric value: a text comparison (byte order) with the field's text.
  return sql`(${jsonbText(t.value)} ${sql.raw(SQL_OP[op])} ${v} collate "C")`;
}

const NODES = sql`(case when jsonb_typeof(m.nodes) = 'array' then m.nodes else '[]'::jsonb end)`;

function compileAggregate(n: FilterAggregate): RawBuilder<boolean> {
  const path = n.target.split('.').slice(1); // after "nodes"
  let expr: RawBuilder<unknown>;
  if (n.aggOperator === 'count') {
    expr = path.length
      ? sql`(select count(*) from jsonb_array_elements(${NODES}) as e(n) where coalesce(jsonb_typeof(e.n #> ${path}::text[]), 'null') <> 'null')`
      : sql`jsonb_array_length(${NODES})`;
  } else {
    expr = sql`(select ${sql.raw(AGG_FN[n.aggOperator])}(${jsonbNumeric(sql`e.n #> ${path}::text[]`)}) from jsonb_array_elements(${NODES}) as e(n))`;
  }
  const cmp = sql<boolean>`(${expr} ${sql.raw(SQL_OP[n.operator === '!=' ? '==' : n.operator])} ${numeric(n.value)})`;
  return n.operator === '!=' ? sql`(not coalesce(${cmp}, false))` : cmp;
}

/** One node of a filter as a boolean SQL expression over `c` (clusters), `m` (cluster_metrics) or `nd.node`. */
export function compileFilterNode(scope: FilterScope, n: FilterNode): RawBuilder<boolean> {
  if (isGroup(n)) return sql`(${sql.join(n.conditions.map((c) => compileFilterNode(scope, c)), sql.raw(n.logicalOperator === 'AND' ? ' and ' : ' or '))})`;
  if (isAggregate(n)) return compileAggregate(n);
  return compareLeaf(target(scope, n.variable), n.operator, n.value);
}

function compileWhere(filter: ClusterFilter): RawBuilder<boolean> {
  const parts: RawBuilder<boolean>[] = [];
  if (filter.clusterQuery) parts.push(compileFilterNode('cluster', filter.clusterQuery));
  if (filter.clusterMetricsQuery) parts.push(compileFilterNode('metrics', filter.clusterMetricsQuery));
  return parts.length ? sql`${sql.join(parts, sql` and `)}` : sql`true`;
}

/** A cluster without a metrics row fails every metrics condition: inner join when there are any. */
const fromClause = (filter: ClusterFilter) =>
  filter.clusterMetricsQuery ? sql`clusters c join cluster_metrics m on m.cluster_id = c.id` : sql`clusters c`;

/** The clusters matching a (validated) filter, ordered by id, keyset-paged. One query. */
export async function filterClusters(db: Kysely<Database>, filter: ClusterFilter, page: PageRequest): Promise<Page<ClusterRow>> {
  const after = decodeCursor(page.cursor, 1);
  const { rows } = await sql<ClusterRow>`select c.* from ${fromClause(filter)}
    where ${compileWhere(filter)} ${after ? sql`and c.id > ${String(after[0])}` : sql``}
    order by c.id limit ${page.limit + 1}`.execute(db);
  return toPage(rows, page.limit, (r) => [r.id]);
}

/** Ids of every matching cluster (ordered), optionally among `ids` only: the dry run's candidate set. */
export async function filterClusterIds(db: Kysely<Database>, filter: ClusterFilter, ids?: string[]): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`select c.id from ${fromClause(filter)}
    where ${compileWhere(filter)} ${ids ? sql`and c.id = any(${ids}::text[])` : sql``} order by c.id`.execute(db);
  return rows.map((r) => r.id);
}

/**
 * The placement candidates: clusters matching a (validated) filter, or every cluster without
 * one, best first by the built-in ranking, at most `limit`. The ranking is
 * `cluster_metrics.gpu_fit` (the free GPU memory of the cluster's best node, kept by Postgres on
 * every metrics write; migration 0006), then the id. Its index lets Postgres walk the clusters in
 * ranking order and stop after `limit` matches, so the cost follows `limit`, not the registry size
 * (unless the filter is so selective that an expression index serves it better; the planner
 * decides). Clusters that never reported metrics rank last, by id; they can only match a filter
 * without `clusterMetricsQuery`, and are looked up only when the ranked ones are not enough.
 */
export async function filterRankedClusters(db: Kysely<Database>, filter: ClusterFilter | null, limit: number): Promise<ClusterRow[]> {
  const { rows } = await sql<ClusterRow>`select c.* from clusters c join cluster_metrics m on m.cluster_id = c.id
    where ${compileWhere(filter ?? {})} order by m.gpu_fit desc, m.cluster_id limit ${limit}`.execute(db);
  if (rows.length >= limit || filter?.clusterMetricsQuery) return rows;
  const unreported = await sql<ClusterRow>`select c.* from clusters c
    where not exists (select 1 from cluster_metrics m where m.cluster_id = c.id)
    ${filter?.clusterQuery ? sql`and ${compileFilterNode('cluster', filter.clusterQuery)}` : sql``}
    order by c.id limit ${limit - rows.length}`.execute(db);
  return [...rows, ...unreported.rows];
}

export interface ConditionExclusion {
  query: 'clusterQuery' | 'clusterMetricsQuery';
  /** Where the condition sits in the request, e.g. `filter.clusterQuery.conditions.1`. */
  path: string;
  condition: FilterNode;
  /** Clusters (of those considered) that fail this condition on its own. */
  excluded_count: number;
  /** The first 20 of them, by id. */
  excluded_ids: string[];
}

export interface ExclusionReport {
  /** Clusters considered (all, or those of `ids` that exist). */
  considered: number;
  conditions: ConditionExclusion[];
}

const EXCLUDED_SAMPLE = 20;

/**
 * For each top-level condition (a root AND/OR group's conditions, or the root leaf), how many of
 * the considered clusters fail it and which (first 20): the dry run's "which clusters each
 * condition removed". One query; a cluster with no metrics fails every metrics condition.
 */
export async function explainExclusions(db: Kysely<Database>, filter: ClusterFilter, ids?: string[]): Promise<ExclusionReport> {
  const conds: Omit<ConditionExclusion, 'excluded_count' | 'excluded_ids'>[] = [];
  const exprs: RawBuilder<boolean>[] = [];
  for (const query of ['clusterQuery', 'clusterMetricsQuery'] as const) {
    const root = filter[query];
    if (!root) continue;
    const scope = query === 'clusterQuery' ? 'cluster' : 'metrics';
    const top = isGroup(root) ? root.conditions.map((c, i) => ({ c, path: `filter.${query}.conditions.${i}` })) : [{ c: root, path: `filter.${query}` }];
    for (const { c, path } of top) {
      conds.push({ query, path, condition: c });
      const e = compileFilterNode(scope, c);
      exprs.push(scope === 'metrics' ? sql`(m.cluster_id is not null and ${e})` : e);
    }
  }
  const cols = exprs.flatMap((e, i) => [
    sql`count(*) filter (where not coalesce(${e}, false)) as ${sql.ref(`n${i}`)}`,
    sql`(array_agg(c.id order by c.id) filter (where not coalesce(${e}, false)))[1:${sql.lit(EXCLUDED_SAMPLE)}] as ${sql.ref(`s${i}`)}`,
  ]);
  const { rows } = await sql<Record<string, unknown>>`select count(*) as considered ${cols.length ? sql`, ${sql.join(cols)}` : sql``}
    from clusters c left join cluster_metrics m on m.cluster_id = c.id
    ${ids ? sql`where c.id = any(${ids}::text[])` : sql``}`.execute(db);
  const r = rows[0];
  return {
    considered: Number(r.considered),
    conditions: conds.map((c, i) => ({ ...c, excluded_count: Number(r[`n${i}`]), excluded_ids: (r[`s${i}`] as string[] | null) ?? [] })),
  };
}
