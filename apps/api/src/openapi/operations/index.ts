/**
 * Every route of the API, by area. Adding a route: add its entry to the area's list (or a new
 * area file listed here); the route-walking test (apps/api/test/openapi.test.ts) fails until the
 * router and this catalogue agree both ways.
 */
import type { RouteSpec } from '../spec.js';
import { systemOperations } from './system.js';
import { clusterOperations } from './clusters.js';
import { clusterMetricsOperations } from './metrics.js';
import { nodeOperations } from './nodes.js';
import { controllerOperations } from './controller.js';
import { blockOperations } from './blocks.js';
import { taskOperations } from './tasks.js';
import { policyOperations } from './policies.js';
import { infraOperations } from './infra.js';
import { authOperations } from './auth.js';

export const routeCatalogue: RouteSpec[] = [
  ...systemOperations,
  ...clusterOperations,
  ...clusterMetricsOperations,
  ...nodeOperations,
  ...controllerOperations,
  ...blockOperations,
  ...taskOperations,
  ...policyOperations,
  ...infraOperations,
  ...authOperations,
];
