import type { Request, RequestHandler, Response } from 'express';
import type { GatewayMetrics } from '@ccg/runtime';

/**
 * The route label of a request: the matched Express pattern (`/clusters/read/:id`), never the raw
 * path, so label values stay few. A sub-application mounted under a prefix labels its requests
 * with `mountLabel` (`/admin/queues/*`); a request no route matched is `unmatched`.
 */
export function routeLabel(req: Request, res: Response): string {
  const mounted = res.locals.metricsMount as string | undefined;
  if (mounted) return `${mounted}/*`;
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return (req.baseUrl ?? '') + route.path;
  return 'unmatched';
}

/** Put in front of a sub-application mounted at `prefix`: its requests are labelled `<prefix>/*`. */
export function mountLabel(prefix: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.metricsMount = prefix;
    next();
  };
}

/** Observes a finished request's duration, by method, route pattern and status (requestContext calls it). */
export function httpObserver(metrics: GatewayMetrics): (req: Request, res: Response, seconds: number) => void {
  return (req, res, seconds) => metrics.observeHttp(req.method, routeLabel(req, res), res.statusCode, seconds);
}
