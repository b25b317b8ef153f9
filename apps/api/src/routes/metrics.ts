import { Router } from 'express';
import { liveQuerySchema, validate } from '@ccg/contracts';
import type { MetricsService } from '@ccg/metrics';
import { parseNodeFilter } from '@ccg/placement';
import { ok, param, queryStrings, route } from '../http.js';

/** The spec's §2 metrics reads, the metrics writers' push, and the node query. */
export function metricsRoutes(metrics: MetricsService): Router {
  const r = Router();

  r.get('/cluster-metrics/node/:clusterId/:nodeId', route(async (req, res) => ok(res, await metrics.node(param(req, 'clusterId'), param(req, 'nodeId')))));

  r.get('/cluster-metrics/:clusterId', route(async (req, res) => {
    const q = validate<{ live?: string }>(liveQuerySchema, queryStrings(req), 'query');
    ok(res, await metrics.read(param(req, 'clusterId'), q.live === 'true'));
  }));

  r.post('/cluster-metrics/:clusterId/report', route(async (req, res) => ok(res, await metrics.report(param(req, 'clusterId'), req.body))));

  // The placement filter language over node documents; a plain `{"dotted.path": value}` object
  // (equality on every path) is still accepted.
  r.post('/cluster-metrics/:clusterId/node/query', route(async (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    const isFilter = !!body && typeof body === 'object' && ('logicalOperator' in body || 'variable' in body);
    const clusterId = param(req, 'clusterId');
    ok(res, { items: isFilter ? await metrics.queryNodesWhere(clusterId, parseNodeFilter(body)) : await metrics.queryNodes(clusterId, body) });
  }));

  return r;
}
