import { Router } from 'express';
import type { MembershipService, NodeService } from '@ccg/operations';
import { etagOf } from '@ccg/registry';
import { ok, param, route, writeMeta } from '../http.js';

/**
 * Spec §8 node routes (kept as written, the GET remove included, with DELETE beside it) and the
 * original gateway's membership proxies (§1.7), still called by the AIOS onboarding scripts.
 *
 * Membership difference from the original: a pre-check denial is 403 PRECHECK_DENIED with the
 * rule's reason, not 200 `{success: true, allowed: false}`; success is `{success: true, data:
 * <membership server JSON>}`.
 */
export function nodeRoutes(nodes: NodeService, membership: MembershipService): Router {
  const r = Router();

  r.post('/nodes/add-node-to-cluster/:clusterId', route(async (req, res) => {
    const view = await nodes.add(param(req, 'clusterId'), req.body, writeMeta(req, res));
    res.set('ETag', etagOf(view.version));
    ok(res, view);
  }));

  const removeNode = route(async (req, res) => {
    const view = await nodes.remove(param(req, 'clusterId'), param(req, 'nodeId'), writeMeta(req, res));
    res.set('ETag', etagOf(view.version));
    ok(res, view);
  });
  r.get('/nodes/remove-node-from-cluster/:clusterId/:nodeId', removeNode);
  r.delete('/nodes/remove-node-from-cluster/:clusterId/:nodeId', removeNode);

  r.post('/pre-checks/add-node/:clusterId', route(async (req, res) => {
    ok(res, await membership.precheckAdd(param(req, 'clusterId'), req.body, writeMeta(req, res)));
  }));

  r.post('/join-node/:clusterId', route(async (req, res) => {
    ok(res, await membership.join(param(req, 'clusterId'), req.body, writeMeta(req, res)));
  }));

  r.post('/pre-checks/remove-node/:clusterId', route(async (req, res) => {
    ok(res, await membership.precheckRemove(param(req, 'clusterId'), req.body, writeMeta(req, res)));
  }));

  r.post('/remove-node/:clusterId', route(async (req, res) => {
    ok(res, await membership.remove(param(req, 'clusterId'), req.body, writeMeta(req, res)));
  }));

  r.get('/sync-cluster/:clusterId', route(async (req, res) => {
    ok(res, await membership.sync(param(req, 'clusterId')));
  }));

  return r;
}
