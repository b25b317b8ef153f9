import { Router } from 'express';
import { liveQuerySchema, validate } from '@ccg/contracts';
import type { MetricsService } from '@ccg/metrics';
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

  r.post('/cluster-metrics/:clusterId/node/query', route(async (req, res) => ok(res, { items: await metrics.queryNodes(param(req, 'clusterId'), req.body) })));

  return r;
}
