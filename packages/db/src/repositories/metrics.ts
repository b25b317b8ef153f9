import { sql, type Kysely } from 'kysely';
import type { JsonObject } from '@ccg/contracts';
import type { ClusterMetricsRow, Database } from '../schema.js';
import { compileFilterNode, type FilterNode } from '../filter-sql.js';

export interface MetricsSnapshot {
  cluster_id: string;
  cluster: JsonObject;
  nodes: JsonObject[];
  blocks?: unknown[] | null;
  source: 'push' | 'pull';
  collected_at: Date;
}

/** Latest cluster and node metrics per cluster, plus a bounded history. */
export class MetricsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a snapshot as the latest (unless a newer one is already stored) and appends it to the history, keeping `keep` entries. */
  async record(s: MetricsSnapshot, keep: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('cluster_metrics')
        .values({ cluster_id: s.cluster_id, cluster: JSON.stringify(s.cluster), nodes: JSON.stringify(s.nodes), blocks: s.blocks ? JSON.stringify(s.blocks) : null, source: s.source, collected_at: s.collected_at })
        .onConflict((oc) =>
          oc.column('cluster_id').doUpdateSet((eb) => ({
            cluster: eb.ref('excluded.cluster'),
            nodes: eb.ref('excluded.nodes'),
            blocks: eb.fn.coalesce(eb.ref('excluded.blocks'), eb.ref('cluster_metrics.blocks')),
            source: eb.ref('excluded.source'),
            collected_at: eb.ref('excluded.collected_at'),
          })).where('cluster_metrics.collected_at', '<=', s.collected_at),
        )
        .execute();
      await tx.insertInto('cluster_metrics_history').values({ cluster_id: s.cluster_id, cluster: JSON.stringify(s.cluster), nodes: JSON.stringify(s.nodes), source: s.source, collected_at: s.collected_at }).execute();
      await tx
        .deleteFrom('cluster_metrics_history')
        .where('cluster_id', '=', s.cluster_id)
        .where('id', 'not in', (eb) => eb.selectFrom('cluster_metrics_history').select('id').where('cluster_id', '=', s.cluster_id).orderBy('id', 'desc').limit(keep))
        .execute();
    });
  }

  async latest(clusterId: string): Promise<ClusterMetricsRow | undefined> {
    return this.db.selectFrom('cluster_metrics').selectAll().where('cluster_id', '=', clusterId).executeTakeFirst();
  }

  async historyCount(clusterId: string): Promise<number> {
    const r = await this.db.selectFrom('cluster_metrics_history').select((eb) => eb.fn.countAll<number>().as('n')).where('cluster_id', '=', clusterId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Node documents of a cluster's latest metrics that satisfy a (validated) placement filter. */
  async queryNodesWhere(clusterId: string, filter: FilterNode): Promise<JsonObject[]> {
    const rows = await sql<{ node: JsonObject }>`
      select nd.node from cluster_metrics m, jsonb_array_elements(m.nodes) as nd(node)
      where m.cluster_id = ${clusterId} and ${compileFilterNode('node', filter)}`.execute(this.db);
    return rows.rows.map((r) => r.node);
  }

  /** Node documents of a cluster's latest metrics that contain `match` (JSONB containment: equality on each given path). */
  async queryNodes(clusterId: string, match: JsonObject): Promise<JsonObject[]> {
    const rows = await sql<{ node: JsonObject }>`
      select n.node from cluster_metrics m, jsonb_array_elements(m.nodes) as n(node)
      where m.cluster_id = ${clusterId} and n.node @> ${JSON.stringify(match)}::jsonb`.execute(this.db);
    return rows.rows.map((r) => r.node);
  }
}
