import { InputError, metricsReportSchema, NotFoundError, nodeQuerySchema, validate, type Json, type JsonObject } from '@ccg/contracts';
import type { ClusterMetricsRow, ClusterRepository, FilterNode, MetricsRepository } from '@ccg/db';
import { applyDottedUpdate } from '@ccg/registry';

/** What a cluster's metrics service answers at `GET /cluster` (reference §5.3). */
export interface LiveMetrics {
  cluster_metrics: Record<string, unknown>;
  node_metrics: unknown[];
}

export interface MetricsOptions {
  /** Metrics older than this are reported with `stale: true`. */
  staleAfterMs: number;
  /** History entries kept per cluster. */
  historyLimit: number;
  /** Asks a cluster's metrics service directly (`?live=true` and the pull job). */
  fetchLive?: (cluster: JsonObject) => Promise<LiveMetrics>;
}

export interface MetricsView {
  cluster_id: string;
  collected_at: string;
  stale: boolean;
  source: string;
  cluster: JsonObject;
  nodes: JsonObject[];
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Node documents arrive flat (the `metrics.resource.node` sub-document, with `id`) or as stored by
 * the local metrics service (`{nodeId, metrics: {resource: {node: {...}}}}`); both become flat.
 */
export function normaliseNode(doc: JsonObject, at: string): JsonObject {
  const nested = (((doc.metrics as JsonObject | undefined)?.resource as JsonObject | undefined)?.node as JsonObject | undefined) ?? undefined;
  const node = isObject(nested) ? { ...nested } : { ...doc };
  const id = node.id ?? doc.nodeId;
  if (typeof id !== 'string' || id === '') throw new InputError(`invalid body: ${at}.id is required (the node's id)`, { field: `${at}.id` });
  node.id = id;
  return node;
}

function hasMetricsService(doc: JsonObject): boolean {
  const url = ((doc.config as JsonObject | undefined)?.urlMap as JsonObject | undefined)?.metricsService;
  return typeof url === 'string' && url !== '';
}

/** The metrics store: latest cluster/node metrics per cluster, pushed or pulled, with staleness. */
export class MetricsService {
  constructor(
    private readonly repo: MetricsRepository,
    private readonly clusters: ClusterRepository,
    private readonly opts: MetricsOptions,
  ) {}

  private view(row: ClusterMetricsRow): MetricsView {
    return {
      cluster_id: row.cluster_id,
      collected_at: row.collected_at.toISOString(),
      stale: Date.now() - row.collected_at.getTime() > this.opts.staleAfterMs,
      source: row.source,
      cluster: row.cluster,
      nodes: row.nodes,
    };
  }

  /** Stores what a cluster's metrics writer pushed: `{cluster, nodes, blocks?, collected_at?}`. */
  async report(clusterId: string, body: unknown): Promise<MetricsView> {
    const r = validate<{ cluster: JsonObject; nodes: JsonObject[]; blocks?: unknown[]; collected_at?: string }>(metricsReportSchema, body, 'body');
    await this.clusters.get(clusterId);
    const nodes = r.nodes.map((n, i) => normaliseNode(n, `nodes.${i}`));
    const collectedAt = r.collected_at ? new Date(r.collected_at) : new Date();
    if (collectedAt.getTime() > Date.now() + 60_000) throw new InputError('invalid body: collected_at is in the future', { field: 'collected_at' });
    await this.repo.record({ cluster_id: clusterId, cluster: r.cluster, nodes, blocks: r.blocks ?? null, source: 'push', collected_at: collectedAt }, this.opts.historyLimit);
    return this.read(clusterId);
  }

  /** Pulls from the cluster's metrics service and stores the result (the repeatable pull job). */
  async pull(clusterId: string): Promise<MetricsView> {
    const cluster = await this.clusters.get(clusterId);
    const live = await this.live(cluster.doc);
    await this.repo.record({ cluster_id: clusterId, cluster: live.cluster, nodes: live.nodes, source: 'pull', collected_at: new Date() }, this.opts.historyLimit);
    return this.read(clusterId);
  }

  private async live(doc: JsonObject): Promise<{ cluster: JsonObject; nodes: JsonObject[] }> {
    if (!this.opts.fetchLive) throw new NotFoundError('live metrics are not available: no cluster client configured');
    const live = await this.opts.fetchLive(doc);
    const nodes = (live.node_metrics ?? []).filter(isObject);
    return { cluster: (live.cluster_metrics ?? {}) as JsonObject, nodes: nodes.map((n, i) => normaliseNode(n, `node_metrics.${i}`)) };
  }

  /** The latest metrics (404 for an unknown cluster or one that never reported); `live` asks the cluster. */
  async read(clusterId: string, live = false): Promise<MetricsView> {
    const cluster = await this.clusters.get(clusterId);
    if (live) {
      const m = await this.live(cluster.doc);
      return { cluster_id: clusterId, collected_at: new Date().toISOString(), stale: false, source: 'live', cluster: m.cluster, nodes: m.nodes };
    }
    const row = await this.repo.latest(clusterId);
    if (row) return this.view(row);
    // Nothing pushed or pulled yet: a cluster with a metrics service is asked now (and stored).
    if (this.opts.fetchLive && hasMetricsService(cluster.doc)) return this.pull(clusterId);
    throw new NotFoundError(`no metrics for cluster ${clusterId} yet`, { cluster_id: clusterId });
  }

  async node(clusterId: string, nodeId: string): Promise<JsonObject & { stale: boolean; collected_at: string }> {
    const m = await this.read(clusterId);
    const node = m.nodes.find((n) => n.id === nodeId);
    if (!node) throw new NotFoundError(`node ${nodeId} has no metrics in cluster ${clusterId}`, { cluster_id: clusterId, node_id: nodeId });
    return { ...node, cluster_id: clusterId, collected_at: m.collected_at, stale: m.stale };
  }

  /** Node documents whose dotted paths equal the given values, e.g. `{"vcpu.load15m": 0.5}`. */
  async queryNodes(clusterId: string, body: unknown): Promise<JsonObject[]> {
    const filter = validate<Record<string, Json>>(nodeQuerySchema, body, 'body');
    await this.clusters.get(clusterId);
    return this.repo.queryNodes(clusterId, applyDottedUpdate({}, filter));
  }

  /** Node documents matching a placement filter already validated by `parseNodeFilter` (@ccg/placement). */
  async queryNodesWhere(clusterId: string, filter: FilterNode): Promise<JsonObject[]> {
    await this.clusters.get(clusterId);
    return this.repo.queryNodesWhere(clusterId, filter);
  }

  /** The latest metrics as the pre-check inputs want them (`cluster_metrics`), or null before any report. */
  async forPrecheck(clusterId: string): Promise<JsonObject | null> {
    const row = await this.repo.latest(clusterId);
    return row ? ({ cluster_id: clusterId, cluster: row.cluster, nodes: row.nodes, blocks: row.blocks ?? [], collected_at: row.collected_at.toISOString() } as JsonObject) : null;
  }
}
