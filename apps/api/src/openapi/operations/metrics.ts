import { liveQuerySchema, metricsReportSchema, nodeQuerySchema } from '@ccg/contracts';
import type { OperationSpec } from '../spec.js';

const tags = ['cluster metrics'];
const clusterId = { clusterId: 'the cluster id' };

export const clusterMetricsOperations: OperationSpec[] = [
  {
    method: 'get',
    path: '/cluster-metrics/:clusterId',
    summary: "A cluster's latest metrics ({cluster_id, collected_at, stale, source, cluster, nodes})",
    description: '`?live=true` asks the cluster\'s metrics service; a cluster that never reported is asked once.',
    tags,
    pathParams: clusterId,
    query: liveQuerySchema,
    errors: [404, 409, 502, 504],
  },
  { method: 'get', path: '/cluster-metrics/node/:clusterId/:nodeId', summary: "One node's latest metrics", tags, pathParams: { ...clusterId, nodeId: 'the node id' }, errors: [404] },
  {
    method: 'post',
    path: '/cluster-metrics/:clusterId/report',
    summary: "A cluster's metrics writer pushes {cluster, nodes, blocks?, collected_at?}",
    tags,
    pathParams: clusterId,
    body: metricsReportSchema,
    errors: [404],
  },
  {
    method: 'post',
    path: '/cluster-metrics/:clusterId/node/query',
    summary: 'Nodes matching a node filter, or whose dotted paths equal the given values',
    description: 'Body: a placement filter over node documents (`{logicalOperator, conditions}`, no aggregates), or `{"dotted.path": value}` equalities.',
    tags,
    pathParams: clusterId,
    body: { oneOf: [{ type: 'object', required: ['logicalOperator'], description: 'a placement filter group' }, nodeQuerySchema] },
    data: { type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } },
    errors: [404],
  },
];
