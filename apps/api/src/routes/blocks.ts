import { Router } from 'express';
import { blockListQuerySchema, validate } from '@ccg/contracts';
import { parseLimit } from '@ccg/db';
import { etagOf, type BlockService } from '@ccg/registry';
import { ok, param, queryStrings, route } from '../http.js';

export function blockRoutes(blocks: BlockService): Router {
  const r = Router();

  r.get('/blocks', route(async (req, res) => {
    const q = validate<{ limit?: string; cursor?: string; cluster_id?: string; status?: string }>(blockListQuerySchema, queryStrings(req), 'query');
    ok(res, await blocks.list({ cluster_id: q.cluster_id, status: q.status }, { limit: parseLimit(q.limit), cursor: q.cursor }));
  }));

  r.get('/blocks/:id', route(async (req, res) => {
    const view = await blocks.read(param(req, 'id'));
    res.set('ETag', etagOf(view.version));
    ok(res, view);
  }));

  return r;
}
