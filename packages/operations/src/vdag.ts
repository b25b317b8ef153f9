import { GatewayError, validate, vdagControllerSchema, type JsonObject, type VdagControllerBody } from '@ccg/contracts';
import { serviceBaseUrl, UpstreamError } from '@ccg/cluster-client';
import { toClusterView, type WriteMeta } from '@ccg/registry';
import type { OperationsContext } from './context.js';

/**
 * The cluster controller refused the request with a 4xx (e.g. 400 "Missing required parameters"):
 * the same status goes back to the caller, with the controller's body in the details.
 */
export class UpstreamRejectedError extends GatewayError {
  constructor(status: number, message: string, details: { service: string; url: string; upstream_status: number; upstream_body: unknown }) {
    super(status, 'UPSTREAM_REJECTED', message, details);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * vDAG controller actions (spec §5; original-gateway §1.8): `vdag_controller` pre-check
 * `{cluster_data, input}`, then `POST {controllerService}/vdag-controller` with the body unchanged
 * (`payload` defaults to `{}`). The payload's fields are the controller's to check.
 */
export class VdagControllerService {
  constructor(private readonly ctx: OperationsContext) {}

  async execute(clusterId: string, body: unknown, meta: WriteMeta = {}): Promise<unknown> {
    const req = validate<VdagControllerBody>(vdagControllerSchema, body, 'body');
    const request: VdagControllerBody = { ...req, payload: req.payload ?? {} };
    const cluster = await this.ctx.clusters.get(clusterId);
    const input = { cluster_data: toClusterView(cluster) as JsonObject, input: request };
    const checked = await this.ctx.gate.check('vdag_controller', input, { ...meta, clusterId });
    const forward = checked === input ? request : validate<VdagControllerBody>(vdagControllerSchema, checked?.input, 'input returned by the vdag_controller pre-check');

    const { status, body: reply } = await this.ctx.client.vdagController(cluster.doc, forward);
    const url = `${serviceBaseUrl(cluster.doc, 'controllerService')}/vdag-controller`;
    const details = { service: 'controllerService' as const, method: 'POST', url, upstream_status: status, upstream_body: reply, attempts: 1 };
    const says = upstreamText(reply);
    if (status >= 200 && status <= 299) {
      if (isObject(reply) && reply.success === false) throw new UpstreamError(`controllerService POST ${url} answered ${status} with success: false${says ? `: ${says}` : ''}`, details);
      return isObject(reply) && 'data' in reply ? reply.data : reply;
    }
    if (status >= 400 && status <= 499) {
      throw new UpstreamRejectedError(status, `the cluster controller refused ${forward.action}${says ? `: ${says}` : ` (${status})`}`, {
        service: 'controllerService',
        url,
        upstream_status: status,
        upstream_body: reply,
      });
    }
    throw new UpstreamError(`controllerService POST ${url} answered ${status}${says ? `: ${says}` : ''}`, details);
  }
}

function upstreamText(body: unknown): string {
  if (!isObject(body)) return '';
  for (const k of ['message', 'error', 'data']) {
    const v = body[k];
    if (typeof v === 'string' && v) return v.length > 300 ? `${v.slice(0, 300)}…` : v;
  }
  return '';
}
