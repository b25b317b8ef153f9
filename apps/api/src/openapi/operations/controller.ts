import {
  blockMgmtSchema,
  clusterMgmtSchema,
  createBlockSchema,
  initStatusUpdateSchema,
  queryInitContainerSchema,
  reassignInstanceSchema,
  removeBlockSchema,
  removeInstanceSchema,
  vdagControllerSchema,
} from '@ccg/contracts';
import type { OperationSpec } from '../spec.js';
import { scaleRequestSchema } from '../schemas.js';

const tags = ['controller'];
const clusterId = { clusterId: 'the cluster id' };
const upstream = [404, 409, 502, 504];

export const controllerOperations: OperationSpec[] = [
  { method: 'post', path: '/controller/block-scaling/:clusterId', summary: 'Scale or downscale a block (pre-check scale_block)', tags, pathParams: clusterId, body: scaleRequestSchema, errors: upstream },
  { method: 'post', path: '/controller/createBlock/:clusterId', summary: 'Create a block on the cluster (pre-check add_block)', tags, pathParams: clusterId, body: createBlockSchema, errors: upstream },
  { method: 'post', path: '/controller/resourceAllocation/:clusterId', summary: 'Create a block on the cluster (original gateway name of createBlock)', tags, pathParams: clusterId, body: createBlockSchema, errors: upstream },
  { method: 'post', path: '/controller/removeBlock/:clusterId', summary: 'Remove a block from the cluster (pre-check remove_block)', tags, pathParams: clusterId, body: removeBlockSchema, errors: upstream },
  { method: 'post', path: '/controller/removeInstance/:clusterId', summary: 'Remove one block instance (pre-check scale_block)', tags, pathParams: clusterId, body: removeInstanceSchema, errors: upstream },
  { method: 'post', path: '/controller/reassign-instance/:clusterId', summary: 'Reassign one block instance (pre-check scale_block)', tags, pathParams: clusterId, body: reassignInstanceSchema, errors: upstream },
  { method: 'post', path: '/initContainer/initCreateStatusUpdate/:clusterId', summary: "An init container's stage report (no pre-check)", tags, pathParams: clusterId, body: initStatusUpdateSchema, errors: upstream },
  { method: 'post', path: '/initContainer/queryInitContainerData/:clusterId', summary: "An init container's data (no pre-check)", tags, pathParams: clusterId, body: queryInitContainerSchema, errors: upstream },
  {
    method: 'post',
    path: '/vdag-controller/:clusterId',
    summary: 'vDAG controller actions (pre-check vdag_controller); an upstream 4xx keeps its status',
    tags,
    pathParams: clusterId,
    body: vdagControllerSchema,
    errors: [...upstream, 422],
  },
  { method: 'post', path: '/blocks/mgmt', summary: "Management command to a block's service (pre-check block_mgmt)", tags: ['management'], body: blockMgmtSchema, errors: upstream },
  { method: 'post', path: '/cluster/mgmt', summary: 'Management command to a cluster service (pre-check cluster_mgmt)', tags: ['management'], body: clusterMgmtSchema, errors: upstream },
];
