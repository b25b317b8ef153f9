import { joinNodeSchema, nodeSchema, removeNodeBodySchema } from '@ccg/contracts';
import type { OperationSpec } from '../spec.js';
import { clusterViewSchema } from '../schemas.js';

const tags = ['nodes'];
const clusterId = { clusterId: 'the cluster id' };
const upstream = [404, 409, 502, 504];

export const nodeOperations: OperationSpec[] = [
  {
    method: 'post',
    path: '/nodes/add-node-to-cluster/:clusterId',
    summary: "Add a node (pre-check add_node; the controller's add-node, then the entry's totals)",
    tags,
    pathParams: clusterId,
    body: nodeSchema,
    data: clusterViewSchema,
    etag: true,
    errors: upstream,
  },
  {
    method: 'get',
    path: '/nodes/remove-node-from-cluster/:clusterId/:nodeId',
    summary: 'Remove a node (the spec\'s GET; pre-check remove_node)',
    tags,
    pathParams: { ...clusterId, nodeId: 'the node id' },
    data: clusterViewSchema,
    etag: true,
    errors: upstream,
  },
  {
    method: 'delete',
    path: '/nodes/remove-node-from-cluster/:clusterId/:nodeId',
    summary: 'Remove a node (pre-check remove_node)',
    tags,
    pathParams: { ...clusterId, nodeId: 'the node id' },
    data: clusterViewSchema,
    etag: true,
    errors: upstream,
  },
  { method: 'post', path: '/pre-checks/add-node/:clusterId', summary: 'Membership proxy: pre-check add_node, then the membership server', tags: ['membership'], pathParams: clusterId, body: nodeSchema, errors: upstream },
  { method: 'post', path: '/join-node/:clusterId', summary: 'Membership proxy: join a node (pre-check add_node)', tags: ['membership'], pathParams: clusterId, body: joinNodeSchema, errors: upstream },
  { method: 'post', path: '/pre-checks/remove-node/:clusterId', summary: 'Membership proxy: pre-check remove_node', tags: ['membership'], pathParams: clusterId, body: removeNodeBodySchema, errors: upstream },
  { method: 'post', path: '/remove-node/:clusterId', summary: 'Membership proxy: remove a node (pre-check remove_node)', tags: ['membership'], pathParams: clusterId, body: removeNodeBodySchema, errors: upstream },
  { method: 'get', path: '/sync-cluster/:clusterId', summary: "Ask the membership server to rebuild the entry's nodes from Kubernetes", tags: ['membership'], pathParams: clusterId, errors: upstream },
];
