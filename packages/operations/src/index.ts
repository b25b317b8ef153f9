/**
 * Per-cluster operations: each service checks its input, passes the pre-check of its action,
 * forwards to the cluster's services through @ccg/cluster-client, and records the result.
 */
export * from './context.js';
export * from './nodes.js';
export * from './membership.js';
export * from './controller.js';
export * from './mgmt.js';
export * from './vdag.js';
