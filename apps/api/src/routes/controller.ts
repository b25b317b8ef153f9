import { Router } from 'express';
import type { ControllerService, MgmtService, VdagControllerService } from '@ccg/operations';
import { ok, param, route, writeMeta } from '../http.js';

export interface ControllerRouteServices {
  controller: ControllerService;
  mgmt: MgmtService;
  vdag: VdagControllerService;
}

/**
 * Proxies to a cluster's controller and parameter updater: scaling (spec §3), vDAG controllers
 * (§5), management commands (§6, §7), and the original gateway's controller and init-container
 * routes (original-gateway §1.3, §1.4), kept for the Parser and in-cluster callers.
 */
export function controllerRoutes(s: ControllerRouteServices): Router {
  const r = Router();
  const c = s.controller;

  r.post('/controller/block-scaling/:clusterId', route(async (req, res) => ok(res, await c.scale(param(req, 'clusterId'), req.body, writeMeta(req, res)))));

  for (const path of ['/controller/createBlock/:clusterId', '/controller/resourceAllocation/:clusterId']) {
    r.post(path, route(async (req, res) => ok(res, await c.createBlock(param(req, 'clusterId'), req.body, writeMeta(req, res)))));
  }
  r.post('/controller/removeBlock/:clusterId', route(async (req, res) => ok(res, await c.removeBlock(param(req, 'clusterId'), req.body, writeMeta(req, res)))));
  r.post('/controller/removeInstance/:clusterId', route(async (req, res) => ok(res, await c.removeInstance(param(req, 'clusterId'), req.body, writeMeta(req, res)))));
  r.post('/controller/reassign-instance/:clusterId', route(async (req, res) => ok(res, await c.reassignInstance(param(req, 'clusterId'), req.body, writeMeta(req, res)))));

  r.post('/initContainer/initCreateStatusUpdate/:clusterId', route(async (req, res) => ok(res, await c.initCreateStatusUpdate(param(req, 'clusterId'), req.body))));
  r.post('/initContainer/queryInitContainerData/:clusterId', route(async (req, res) => ok(res, await c.queryInitContainerData(param(req, 'clusterId'), req.body))));

  r.post('/vdag-controller/:clusterId', route(async (req, res) => ok(res, await s.vdag.execute(param(req, 'clusterId'), req.body, writeMeta(req, res)))));

  r.post('/blocks/mgmt', route(async (req, res) => ok(res, await s.mgmt.block(req.body, writeMeta(req, res)))));
  r.post('/cluster/mgmt', route(async (req, res) => ok(res, await s.mgmt.cluster(req.body, writeMeta(req, res)))));

  return r;
}
