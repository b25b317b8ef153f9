import { joinNodeSchema, nodeSchema, removeNodeBodySchema, validate, type JsonObject } from '@ccg/contracts';
import type { WriteMeta } from '@ccg/registry';
import type { OperationsContext } from './context.js';
import { checkNodeClusterId, precheckAddNode, precheckRemoveNode } from './nodes.js';

const DEFAULT_JOIN_MODE = 'local_network';

/**
 * Thin proxies to a cluster's membership server (original gateway §1.7; called by the AIOS node
 * onboarding scripts and the Go membership-client), behind the gateway's add_node / remove_node
 * pre-checks. Each returns the membership server's JSON.
 *
 * Unlike the original: a denial is the gateway's usual 403 PRECHECK_DENIED (the original answered
 * 200 `{success: true, allowed: false}`); `/join-node` forwards the rule's rewritten node data
 * (the original discarded it); `/sync-cluster` is forwarded as GET (the original POSTed, which
 * the membership server answers with 405). Node ids are not checked against the registry: the
 * membership server knows the Kubernetes nodes and syncs the registry from them.
 */
export class MembershipService {
  constructor(private readonly ctx: OperationsContext) {}

  /** `POST {membershipServer}/pre-checks/add-node` with the checked node data (`cluster_id` injected). */
  async precheckAdd(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    const node = validate<JsonObject>(nodeSchema, body, 'body');
    const { row, nodeData } = await this.checkAdd(clusterId, node, '', meta);
    return this.ctx.client.membership(row.doc, '/pre-checks/add-node', nodeData, 'POST');
  }

  /** `POST {membershipServer}/join-node` with `{node_data: <checked>, mode, custom_ip?}`. */
  async join(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    const b = validate<{ node_data: JsonObject; mode?: string; custom_ip?: string | null }>(joinNodeSchema, body, 'body');
    const { row, nodeData } = await this.checkAdd(clusterId, b.node_data, 'node_data.', meta);
    const upstream: JsonObject = { node_data: nodeData, mode: b.mode || DEFAULT_JOIN_MODE };
    if (b.custom_ip) upstream.custom_ip = b.custom_ip;
    return this.ctx.client.membership(row.doc, '/join-node', upstream, 'POST');
  }

  /** `POST {membershipServer}/pre-checks/remove-node` with `{node_id: <checked>}`. */
  async precheckRemove(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    return this.removeCall(clusterId, body, '/pre-checks/remove-node', meta);
  }

  /** `POST {membershipServer}/remove-node` with `{node_id: <checked>}`. */
  async remove(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    return this.removeCall(clusterId, body, '/remove-node', meta);
  }

  /** `GET {membershipServer}/sync-cluster`: the membership server rebuilds the entry's nodes from Kubernetes. */
  async sync(clusterId: string): Promise<unknown> {
    const row = await this.ctx.clusters.get(clusterId);
    return this.ctx.client.membership(row.doc, '/sync-cluster', undefined, 'GET');
  }

  /** The membership server expects `cluster_id` in the node data (the original injects it). */
  private async checkAdd(clusterId: string, node: JsonObject, prefix: string, meta: WriteMeta) {
    checkNodeClusterId(node, clusterId, 'clusterId', prefix);
    checkNodeClusterId(node, clusterId, 'cluster_id', prefix);
    const row = await this.ctx.clusters.get(clusterId);
    const nodeData = await precheckAddNode(this.ctx, row, { ...node, cluster_id: clusterId }, meta);
    return { row, nodeData };
  }

  private async removeCall(clusterId: string, body: unknown, path: string, meta: WriteMeta): Promise<unknown> {
    const { node_id } = validate<{ node_id: string }>(removeNodeBodySchema, body, 'body');
    const row = await this.ctx.clusters.get(clusterId);
    const id = await precheckRemoveNode(this.ctx, row, node_id, meta);
    return this.ctx.client.membership(row.doc, path, { node_id: id }, 'POST');
  }
}
