import { clusterDeleteQuerySchema, clusterSchema, clusterUpdateSchema, listQuerySchema } from '@ccg/contracts';
import type { OperationSpec } from '../spec.js';
import { clusterViewSchema, page, placementFilterSchema } from '../schemas.js';

const tags = ['clusters'];
const id = { id: 'the cluster id' };

export const clusterOperations: OperationSpec[] = [
  { method: 'post', path: '/clusters/create', summary: 'Create a cluster entry (pre-check add_cluster)', tags, body: clusterSchema, data: clusterViewSchema, etag: true, errors: [409] },
  { method: 'get', path: '/clusters/read/:id', summary: 'Read a cluster entry', tags, pathParams: id, data: clusterViewSchema, etag: true, errors: [404] },
  { method: 'get', path: '/clusters', summary: 'List cluster entries', tags, query: listQuerySchema, data: page(clusterViewSchema) },
  {
    method: 'post',
    path: '/clusters/query',
    summary: 'Clusters matching a placement filter',
    description: 'Body `{filter: {clusterQuery?, clusterMetricsQuery?}}` or the filter itself; 400 names the bad condition.',
    tags,
    query: listQuerySchema,
    body: placementFilterSchema,
    data: page(clusterViewSchema),
  },
  {
    method: 'patch',
    path: '/clusters/update/:id',
    summary: 'Dotted-path update of a cluster entry (pre-check update_cluster)',
    tags,
    pathParams: id,
    headers: ['If-Match'],
    body: clusterUpdateSchema,
    data: clusterViewSchema,
    etag: true,
    errors: [404, 412],
  },
  {
    method: 'put',
    path: '/clusters/update/:id',
    summary: 'Dotted-path update of a cluster entry (the original gateway\'s verb; same as PATCH)',
    tags,
    pathParams: id,
    headers: ['If-Match'],
    body: clusterUpdateSchema,
    data: clusterViewSchema,
    etag: true,
    errors: [404, 412],
  },
  {
    method: 'delete',
    path: '/clusters/delete/:id',
    summary: 'Delete a cluster entry (pre-check remove_cluster); 409 CLUSTER_HAS_BLOCKS unless ?force=true',
    tags,
    pathParams: id,
    headers: ['If-Match'],
    query: clusterDeleteQuerySchema,
    data: { type: 'object', properties: { message: { type: 'string' }, id: { type: 'string' }, version: { type: 'integer' } } },
    errors: [404, 409, 412],
  },
];
