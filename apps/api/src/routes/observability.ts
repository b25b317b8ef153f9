import { Router } from 'express';
import type { GatewayMetrics } from '@ccg/runtime';

/** `GET /metrics`: the process's Prometheus registry (in the all-in-one gateway the workers' too). */
export function metricsExpositionRoutes(metrics: GatewayMetrics): Router {
  const r = Router();
  r.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metrics.render();
    res.set('Content-Type', contentType).set('Cache-Control', 'no-store').send(body);
  });
  return r;
}
