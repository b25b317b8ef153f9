import { Router } from 'express';
import type { Kysely } from 'kysely';
import { listQuerySchema, validate } from '@ccg/contracts';
import { parseLimit, type Database } from '@ccg/db';
import { queryClusters } from '@ccg/placement';
import { toClusterView } from '@ccg/registry';
import { ok, queryStrings, route } from '../http.js';

/**
 * `POST /clusters/query`: the placement filter language over the registry and the latest metrics.
 * Body `{filter: {clusterQuery?, clusterMetricsQuery?}}`, or the filter object itself.
 */
export function clusterQueryRoutes(db: Kysely<Database>): Router {
  const r = Router();
  r.post('/clusters/query', route(async (req, res) => {
    const q = validate<{ limit?: string; cursor?: string }>(listQuerySchema, queryStrings(req), 'query');
    const body = req.body as Record<string, unknown> | undefined;
    const raw = body && typeof body === 'object' && !Array.isArray(body) && 'filter' in body ? body.filter : body;
    const page = await queryClusters(db, raw, { limit: parseLimit(q.limit), cursor: q.cursor });
    ok(res, { items: page.items.map(toClusterView), next_cursor: page.next_cursor });
  }));
  return r;
}
