import { blockListQuerySchema } from '@ccg/contracts';
import { taskInput, type OperationSpec } from '../spec.js';
import { blockRequestSchema, page, taskViewSchema } from '../schemas.js';

const tags = ['blocks'];

export const blockOperations: OperationSpec[] = [
  { method: 'get', path: '/blocks', summary: 'List the blocks registry', tags, query: blockListQuerySchema, data: page({ type: 'object' }) },
  { method: 'get', path: '/blocks/:id', summary: 'One block', tags, pathParams: { id: 'the block id' }, etag: true, errors: [404] },
  {
    method: 'delete',
    path: '/blocks/:id',
    summary: 'De-allocate a block: starts a block_deallocation task',
    tags,
    pathParams: { id: 'the block id' },
    headers: ['Idempotency-Key'],
    data: taskViewSchema,
    errors: [404, 409, 422],
  },
  {
    method: 'post',
    path: '/blockActions/dryRun',
    summary: "Dry run: filter, select, ask each candidate's controller, pick (synchronous)",
    tags,
    body: blockRequestSchema,
    errors: [409, 502, 504],
  },
  { method: 'post', path: '/blockActions/selectClusters', summary: "The clusterAllocator's selection for a block", tags, body: blockRequestSchema, errors: [409] },
  {
    method: 'post',
    path: '/blockActions/allocate',
    summary: 'Allocate a block: starts a block_allocation task',
    tags,
    headers: ['Idempotency-Key'],
    body: blockRequestSchema,
    data: taskViewSchema,
    errors: [409, 422],
  },
  {
    method: 'post',
    path: '/blockActions/deallocate',
    summary: 'De-allocate a block: starts a block_deallocation task',
    tags,
    headers: ['Idempotency-Key'],
    body: taskInput('block_deallocation'),
    data: taskViewSchema,
    errors: [404, 409, 422],
  },
];
