import { Router } from 'express';
import { clusterDeleteQuerySchema, listQuerySchema, validate } from '@ccg/contracts';
import { parseLimit } from '@ccg/db';
import { etagOf, parseIfMatch, type ClusterService } from '@ccg/registry';
import { ok, okJson, param, queryStrings, route, writeMeta } from '../http.js';

/** The spec's §1 cluster registry routes, kept as written (PUT as well as PATCH for update). */
export function clusterRoutes(clusters: ClusterService): Router {
  const r = Router();

  r.post('/clusters/create', route(async (req, res) => {
    const view = await clusters.create(req.body, writeMeta(req, res));
    res.set('ETag', etagOf(view.version));
    ok(res, view);
  }));

  r.get('/clusters/read/:id', route(async (req, res) => {
    const { version, json } = await clusters.readJson(param(req, 'id'));
    res.setHeader('ETag', etagOf(version));
    okJson(res, json);
  }));

  r.get('/clusters', route(async (req, res) => {
    const q = validate<{ limit?: string; cursor?: string }>(listQuerySchema, queryStrings(req), 'query');
    ok(res, await clusters.list({ limit: parseLimit(q.limit), cursor: q.cursor }));
  }));

  const update = route(async (req, res) => {
    const view = await clusters.update(param(req, 'id'), req.body, parseIfMatch(req.get('If-Match')), writeMeta(req, res));
    res.set('ETag', etagOf(view.version));
    ok(res, view);
  });
  r.patch('/clusters/update/:id', update);
  r.put('/clusters/update/:id', update);

  r.delete('/clusters/delete/:id', route(async (req, res) => {
    const q = validate<{ force?: string }>(clusterDeleteQuerySchema, queryStrings(req), 'query');
    const view = await clusters.remove(param(req, 'id'), parseIfMatch(req.get('If-Match')), writeMeta(req, res), q.force === 'true');
    ok(res, { message: 'Cluster deleted', id: view.id, version: view.version });
  }));

  return r;
}
