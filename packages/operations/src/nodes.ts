import { ConflictError, InputError, NotFoundError, nodeSchema, validate, type JsonObject } from '@ccg/contracts';
import type { ClusterRow } from '@ccg/db';
import { toClusterView, type ClusterView, type WriteMeta } from '@ccg/registry';
import type { OperationsContext } from './context.js';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The cluster-level totals derived from `nodes.nodeData` (what the controller recomputes, aios-neighbours §1.6). */
export interface NodeTotals {
  nodes: { count: number };
  gpus: { count: number; memory: number; modelNames: string[] };
  vcpus: { count: number };
  memory: number;
  swap: number;
  storage: { disks: number; size: number };
  network: { interfaces: number; txBandwidth: number; rxBandwidth: number };
}

/**
 * Sums the node entries into cluster totals. Missing or non-numeric values count as 0.
 * `gpus.modelNames` is the union of the nodes' model names (first seen first), so a removed
 * node's GPU model does not linger in placement filters.
 */
export function sumNodeTotals(nodeData: readonly unknown[]): NodeTotals {
  const t: NodeTotals = {
    nodes: { count: 0 },
    gpus: { count: 0, memory: 0, modelNames: [] },
    vcpus: { count: 0 },
    memory: 0,
    swap: 0,
    storage: { disks: 0, size: 0 },
    network: { interfaces: 0, txBandwidth: 0, rxBandwidth: 0 },
  };
  const models = new Set<string>();
  for (const raw of nodeData) {
    const n = isObject(raw) ? raw : {};
    const gpus = isObject(n.gpus) ? n.gpus : {};
    const vcpus = isObject(n.vcpus) ? n.vcpus : {};
    const storage = isObject(n.storage) ? n.storage : {};
    const network = isObject(n.network) ? n.network : {};
    t.nodes.count += 1;
    t.gpus.count += num(gpus.count);
    t.gpus.memory += num(gpus.memory);
    if (Array.isArray(gpus.modelNames)) for (const m of gpus.modelNames) if (typeof m === 'string') models.add(m);
    if (Array.isArray(gpus.gpus)) for (const g of gpus.gpus) if (isObject(g) && typeof g.modelName === 'string') models.add(g.modelName);
    t.vcpus.count += num(vcpus.count);
    t.memory += num(n.memory);
    t.swap += num(n.swap);
    t.storage.disks += num(storage.disks);
    t.storage.size += num(storage.size);
    t.network.interfaces += num(network.interfaces);
    t.network.txBandwidth += num(network.txBandwidth);
    t.network.rxBandwidth += num(network.rxBandwidth);
  }
  t.gpus.modelNames = [...models];
  return t;
}

/** The cluster document with `nodes.nodeData` replaced and every total recomputed; other fields kept. */
export function withNodes(doc: JsonObject, nodeData: JsonObject[]): JsonObject {
  const t = sumNodeTotals(nodeData);
  const sub = (k: string): JsonObject => (isObject(doc[k]) ? (doc[k] as JsonObject) : {});
  return {
    ...doc,
    nodes: { ...sub('nodes'), count: t.nodes.count, nodeData },
    gpus: { ...sub('gpus'), ...t.gpus },
    vcpus: { ...sub('vcpus'), ...t.vcpus },
    memory: t.memory,
    swap: t.swap,
    storage: { ...sub('storage'), ...t.storage },
    network: { ...sub('network'), ...t.network },
  };
}

export function nodeEntries(doc: JsonObject): JsonObject[] {
  const nodes = doc.nodes;
  return isObject(nodes) && Array.isArray(nodes.nodeData) ? (nodes.nodeData.filter(isObject) as JsonObject[]) : [];
}

/**
 * The ids of the blocks with instances on `nodeId`, for the remove_node pre-check
 * (`block_instances`). Rule: read the cluster's latest metrics (`metrics.forPrecheck`) and collect
 * the `blockId` of every instance document whose `nodeId` is the node, found either in the
 * metrics' `blocks` list (global block-metrics documents `{blockId, instances: [{nodeId, ...}]}`,
 * or flat instance documents `{blockId, nodeId}`) or in the node's own metrics entry under
 * `instances`. No metrics, or metrics without such documents: `[]`. First seen first, no repeats.
 */
export function blockInstancesOnNode(metrics: JsonObject | null, nodeId: string): string[] {
  const ids = new Set<string>();
  const visit = (doc: unknown, blockId?: unknown, onNode?: unknown): void => {
    if (!isObject(doc)) return;
    const block = doc.blockId ?? blockId;
    const node = doc.nodeId ?? onNode;
    if (typeof block === 'string' && block && node === nodeId) ids.add(block);
  };
  if (!metrics) return [];
  if (Array.isArray(metrics.blocks)) {
    for (const b of metrics.blocks) {
      if (isObject(b) && Array.isArray(b.instances)) for (const inst of b.instances) visit(inst, b.blockId);
      else visit(b);
    }
  }
  if (Array.isArray(metrics.nodes)) {
    for (const n of metrics.nodes) {
      if (isObject(n) && (n.id === nodeId || n.nodeId === nodeId) && Array.isArray(n.instances)) {
        for (const inst of n.instances) visit(inst, undefined, nodeId);
      }
    }
  }
  return [...ids];
}

/** add_node pre-check input, exactly the spec's keys. */
export interface AddNodeInput {
  node_data: JsonObject;
  cluster_data: JsonObject;
  cluster_metrics: JsonObject | null;
}

/** remove_node pre-check input, exactly the spec's keys. */
export interface RemoveNodeInput {
  node_id: string;
  cluster_data: JsonObject;
  cluster_metrics: JsonObject | null;
  block_instances: string[];
}

/**
 * Runs the add_node pre-check and returns the node data to go on with. Rules of the spec's
 * template return the whole input dict, so the rewritten `node_data` is read from it and
 * validated again (a rule must not turn a valid node into an invalid one).
 */
export async function precheckAddNode(ctx: OperationsContext, row: ClusterRow, nodeData: JsonObject, meta: WriteMeta): Promise<JsonObject> {
  const input: AddNodeInput = { node_data: nodeData, cluster_data: toClusterView(row), cluster_metrics: await ctx.metrics.forPrecheck(row.id) };
  const checked = await ctx.gate.check('add_node', input, { ...meta, clusterId: row.id });
  if (checked === input) return nodeData;
  if (!isObject(checked) || !isObject(checked.node_data)) {
    throw new InputError('the add_node pre-check rule returned no node_data object', { field: 'node_data' });
  }
  return validate<JsonObject>(nodeSchema, checked.node_data, 'node_data returned by the add_node pre-check rule');
}

/** Runs the remove_node pre-check and returns the node id to go on with (a rule may rewrite it). */
export async function precheckRemoveNode(ctx: OperationsContext, row: ClusterRow, nodeId: string, meta: WriteMeta): Promise<string> {
  const metrics = await ctx.metrics.forPrecheck(row.id);
  const input: RemoveNodeInput = { node_id: nodeId, cluster_data: toClusterView(row), cluster_metrics: metrics, block_instances: blockInstancesOnNode(metrics, nodeId) };
  const checked = await ctx.gate.check('remove_node', input, { ...meta, clusterId: row.id });
  const id = isObject(checked) ? checked.node_id : undefined;
  if (typeof id !== 'string' || id === '') throw new InputError('the remove_node pre-check rule returned no node_id string', { field: 'node_id' });
  return id;
}

/**
 * Spec §8: adding and removing a cluster's nodes. Each call passes its pre-check, forwards to the
 * cluster's controller (`/cluster-actions/*`), then updates the entry in one row-locked
 * transaction: `nodes.nodeData` changes and every total is recomputed from the node entries.
 */
export class NodeService {
  constructor(private readonly ctx: OperationsContext) {}

  /** POST /nodes/add-node-to-cluster/:clusterId with the node data as the body. */
  async add(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<ClusterView> {
    const node = validate<JsonObject>(nodeSchema, body, 'body');
    checkNodeClusterId(node, clusterId, 'clusterId');
    const row = await this.ctx.clusters.get(clusterId);
    assertNew(nodeEntries(row.doc), node.id as string, clusterId);

    const nodeData = await precheckAddNode(this.ctx, row, node, meta);
    checkNodeClusterId(nodeData, clusterId, 'clusterId');
    const id = nodeData.id as string;
    assertNew(nodeEntries(row.doc), id, clusterId);

    await this.ctx.client.addNode(row.doc, nodeData);

    const { clusterId: _dropped, ...entry } = nodeData; // the entry's own id says which cluster
    const updated = await this.ctx.clusters.update(clusterId, (doc) => {
      const nodes = nodeEntries(doc);
      assertNew(nodes, id, clusterId); // a concurrent add of the same id may have won
      return withNodes(doc, [...nodes, entry]);
    }, undefined, meta.actor ?? null);
    return toClusterView(updated);
  }

  /** GET (spec) or DELETE /nodes/remove-node-from-cluster/:clusterId/:nodeId. */
  async remove(clusterId: string, nodeId: string, meta: WriteMeta = {}): Promise<ClusterView> {
    const row = await this.ctx.clusters.get(clusterId);
    assertPresent(nodeEntries(row.doc), nodeId, clusterId);

    const id = await precheckRemoveNode(this.ctx, row, nodeId, meta);
    assertPresent(nodeEntries(row.doc), id, clusterId);

    await this.ctx.client.removeNode(row.doc, id);

    const updated = await this.ctx.clusters.update(clusterId, (doc) => {
      const nodes = nodeEntries(doc);
      assertPresent(nodes, id, clusterId); // a concurrent remove may have won
      return withNodes(doc, nodes.filter((n) => n.id !== id));
    }, undefined, meta.actor ?? null);
    return toClusterView(updated);
  }
}

/** A node body may name its cluster (`clusterId`, or `cluster_id` for membership); it must be this one. */
export function checkNodeClusterId(node: JsonObject, clusterId: string, field: 'clusterId' | 'cluster_id', prefix = ''): void {
  const v = node[field];
  if (v !== undefined && v !== clusterId) {
    throw new InputError(`invalid body: ${prefix}${field} ${JSON.stringify(v)} does not match the cluster in the path (${clusterId})`, { field: `${prefix}${field}` });
  }
}

function assertNew(nodes: JsonObject[], id: string, clusterId: string): void {
  if (nodes.some((n) => n.id === id)) throw new ConflictError(`node ${id} is already in cluster ${clusterId}`, { field: 'id', cluster_id: clusterId, node_id: id });
}

function assertPresent(nodes: JsonObject[], id: string, clusterId: string): void {
  if (!nodes.some((n) => n.id === id)) throw new NotFoundError(`node ${id} not found in cluster ${clusterId}`, { cluster_id: clusterId, node_id: id });
}
