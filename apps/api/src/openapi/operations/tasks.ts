import { taskListQuerySchema, taskRetrySchema } from '@ccg/contracts';
import { taskInput, type OperationSpec } from '../spec.js';
import { page, taskViewSchema } from '../schemas.js';

const tags = ['tasks'];
const id = { id: 'the task id' };

export const taskOperations: OperationSpec[] = [
  { method: 'get', path: '/tasks/:id', summary: 'A task with its ordered steps', tags, pathParams: id, data: taskViewSchema, errors: [404] },
  { method: 'get', path: '/task/:id', summary: 'A task (the AIOS tasks-DB path)', tags, pathParams: id, data: taskViewSchema, errors: [404] },
  { method: 'get', path: '/tasks', summary: 'List tasks', tags, query: taskListQuerySchema, data: page(taskViewSchema) },
  {
    method: 'get',
    path: '/tasks/:id/events',
    summary: 'Server-sent events of one task: `event: task` on every change, then `event: end`',
    tags,
    pathParams: id,
    produces: 'event-stream',
    errors: [404],
  },
  { method: 'post', path: '/tasks/:id/cancel', summary: 'Cancel a pending or running task (409 once it finished)', tags, pathParams: id, data: taskViewSchema, errors: [404, 409] },
  {
    method: 'post',
    path: '/tasks/:id/retry',
    summary: 'Run a failed or cancelled task again from its first unfinished step',
    tags,
    pathParams: id,
    body: taskRetrySchema,
    bodyRequired: false,
    data: taskViewSchema,
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/admin/diagnostics/tasks',
    summary: 'Start a diagnostic task (checks queue and workers end to end)',
    tags: ['admin'],
    headers: ['Idempotency-Key'],
    body: taskInput('diagnostic'),
    bodyRequired: false,
    data: taskViewSchema,
    errors: [422],
  },
];
