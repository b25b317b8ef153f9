import { clusterSchema, clusterUpdateSchema, ConflictError, InputError, NotFoundError, validate, type Json, type JsonObject, type Page } from '@ccg/contracts';
import type { BlockRepository, ClusterRepository, ClusterRow, PageRequest } from '@ccg/db';
import { applyDottedUpdate } from './dotted-path.js';
import { allowAll, type PrecheckGate, type WriteMeta } from './gate.js';

/** Fields the gateway keeps itself; clients read them but cannot write them. */
const MANAGED_FIELDS = ['version', 'created_at', 'updated_at'] as const;
/** Stored in the entry but written only by the gateway's own tasks (recordInfra). */
export const SYSTEM_FIELDS = ['infraStatus'] as const;

/** The infra tasks' record on a cluster entry (`infraStatus`), readable at GET /clusters/read/:id. */
export interface InfraStatus extends JsonObject {
  status: 'ready' | 'failed' | 'removed' | 'removal_failed' | 'cancelled';
  task_id: string;
  updated_at: string;
  message: string;
}

export interface InfraRecord {
  /** New `config.urlMap`; undefined leaves it as it is. */
  urlMap?: Record<string, string>;
  infraStatus: InfraStatus;
}

export type ClusterView = JsonObject & { id: string; version: number; created_at: string; updated_at: string };

/** The entry as the API shows it. ClusterRepository.findViewJson builds the same view in SQL for the read route; change both together. */
export function toClusterView(row: ClusterRow): ClusterView {
  return { ...row.doc, id: row.id, version: row.version, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

function withoutManaged(doc: JsonObject): JsonObject {
  const copy = { ...doc };
  for (const f of MANAGED_FIELDS) delete copy[f];
  return copy;
}

function withoutSystem(doc: JsonObject): JsonObject {
  const copy = { ...doc };
  for (const f of SYSTEM_FIELDS) delete copy[f];
  return copy;
}

/** A user update (or a rule rewriting it) never changes the system fields. */
function keepSystem(current: JsonObject, next: JsonObject): JsonObject {
  const out = withoutSystem(next);
  for (const f of SYSTEM_FIELDS) if (current[f] !== undefined) out[f] = current[f];
  return out;
}

function checkNodeIdsUnique(doc: JsonObject): void {
  const nodes = (doc.nodes as JsonObject | undefined)?.nodeData;
  if (!Array.isArray(nodes)) return;
  const seen = new Set<string>();
  nodes.forEach((n, i) => {
    const id = (n as JsonObject).id as string;
    if (seen.has(id)) throw new InputError(`invalid cluster: nodes.nodeData.${i}.id "${id}" appears twice`, { field: `nodes.nodeData.${i}.id` });
    seen.add(id);
  });
}

function validateCluster(doc: unknown): JsonObject {
  const valid = validate<JsonObject>(clusterSchema, doc, 'cluster');
  checkNodeIdsUnique(valid);
  return valid;
}

/** The cluster registry: the one place cluster entries are created, changed and removed. */
export class ClusterService {
  constructor(
    private readonly repo: ClusterRepository,
    private readonly blocks?: BlockRepository,
    private readonly gate: PrecheckGate = allowAll,
    /** The cluster's latest metrics for pre-check inputs (null before any report). */
    private readonly metricsOf: (clusterId: string) => Promise<JsonObject | null> = async () => null,
  ) {}

  /** add_cluster pre-check input: `{cluster_data}`; the rule's cluster_data is what gets stored. */
  async create(body: unknown, meta: WriteMeta = {}): Promise<ClusterView> {
    const doc = withoutSystem(withoutManaged(validateCluster(body)));
    const input = { cluster_data: doc };
    const checked = await this.gate.check('add_cluster', input, { ...meta, clusterId: doc.id as string });
    if (checked !== input) checked.cluster_data = withoutSystem(withoutManaged(validateCluster(checked.cluster_data)));
    return toClusterView(await this.repo.insert(checked.cluster_data.id as string, checked.cluster_data, meta.actor ?? null));
  }

  async read(id: string): Promise<ClusterView> {
    return toClusterView(await this.repo.get(id));
  }

  /** The entry as `read` returns it, already serialised as JSON, and its version (for the ETag). */
  async readJson(id: string): Promise<{ version: number; json: string }> {
    const found = await this.repo.findViewJson(id);
    if (!found) throw new NotFoundError(`cluster ${id} not found`, { id });
    return found;
  }

  async list(page: PageRequest): Promise<Page<ClusterView>> {
    const p = await this.repo.list(page);
    return { items: p.items.map(toClusterView), next_cursor: p.next_cursor };
  }

  /**
   * Applies dotted-path updates; the result must still be a valid cluster entry with the same id.
   * update_cluster pre-check input: `{cluster_data}` as the cluster would be after the update.
   */
  async update(id: string, body: unknown, expectedVersion?: number, meta: WriteMeta = {}): Promise<ClusterView> {
    const updates = validate<Record<string, Json>>(clusterUpdateSchema, body, 'body');
    for (const key of Object.keys(updates)) {
      const top = key.split('.')[0];
      if ((MANAGED_FIELDS as readonly string[]).includes(top)) {
        throw new InputError(`invalid body: ${top} is managed by the gateway (send If-Match to guard a write)`, { field: key });
      }
      if ((SYSTEM_FIELDS as readonly string[]).includes(top)) {
        throw new InputError(`invalid body: ${top} is written by the gateway's infra tasks`, { field: key });
      }
      if (top === 'id' && (key !== 'id' || updates[key] !== id)) {
        throw new InputError('invalid body: id cannot change', { field: key });
      }
    }
    const row = await this.repo.update(
      id,
      async (current) => {
        const next = validateCluster(applyDottedUpdate(current, updates));
        const input = { cluster_data: next };
        const checked = await this.gate.check('update_cluster', input, { ...meta, clusterId: id });
        // A rule that rewrote the cluster must still leave a valid entry.
        const checkedCluster = checked === input ? next : validateCluster(checked.cluster_data);
        if (checkedCluster.id !== id) throw new InputError('invalid body: id cannot change', { field: 'id' });
        return keepSystem(current, withoutManaged(checkedCluster));
      },
      expectedVersion,
      meta.actor ?? null,
    );
    return toClusterView(row);
  }

  /**
   * The infra tasks' write: the new urlMap and the infra status. A system write, so it does not
   * pass the update_cluster pre-check (the infra pre-check ran before the task was submitted).
   */
  async recordInfra(id: string, record: InfraRecord): Promise<ClusterView> {
    const row = await this.repo.update(id, (current) => {
      const config = { ...((current.config as JsonObject | undefined) ?? {}) };
      if (record.urlMap !== undefined) config.urlMap = record.urlMap;
      return { ...current, config, infraStatus: record.infraStatus };
    });
    return toClusterView(row);
  }

  /**
   * remove_cluster pre-check input: `{cluster_data, cluster_metrics, cluster_blocks}`: the latest
   * metrics (null before any report) and the ids of the blocks the registry places on it.
   * While blocks are allocated on the cluster it is refused (409) unless `force`.
   */
  async remove(id: string, expectedVersion?: number, meta: WriteMeta = {}, force = false): Promise<ClusterView> {
    const current = await this.repo.get(id);
    const blockIds = this.blocks ? await this.blocks.idsOnCluster(id) : [];
    if (blockIds.length > 0 && !force) {
      throw new ConflictError(`cluster ${id} still has ${blockIds.length} allocated block(s); remove them first or delete with ?force=true`, { cluster_blocks: blockIds }, 'CLUSTER_HAS_BLOCKS');
    }
    await this.gate.check('remove_cluster', { cluster_data: toClusterView(current) as JsonObject, cluster_metrics: await this.metricsOf(id), cluster_blocks: blockIds }, { ...meta, clusterId: id });
    return toClusterView(await this.repo.delete(id, expectedVersion));
  }
}
