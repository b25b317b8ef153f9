import type { RouteSpec } from '../spec.js';

/** Health, the API description, the docs page, Prometheus metrics and the queue dashboard. */
export const systemOperations: RouteSpec[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness', tags: ['system'], noDependencies: true, data: { type: 'object', properties: { status: { const: 'ok' } } } },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: Postgres and the queue answer (else 503 NOT_READY)',
    tags: ['system'],
   
    data: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object' } } },
  },
  { method: 'get', path: '/openapi.json', summary: 'This document (OpenAPI 3.1)', tags: ['system'], noDependencies: true, produces: 'json', data: { type: 'object' } },
  { method: 'get', path: '/docs', summary: 'API documentation page (Swagger UI, served by the gateway)', tags: ['system'], noDependencies: true, produces: 'html' },
  { method: 'get', path: '/docs/swagger-initializer.js', summary: 'Script of the docs page that loads /openapi.json', tags: ['system'], noDependencies: true, produces: 'javascript' },
  { mount: '/docs/assets', summary: "Swagger UI's files (swagger-ui-dist), served by the gateway", tags: ['system'], produces: 'static' },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format)',
    description: 'HTTP, queue depth, job, pre-check and upstream families plus process metrics; see docs/ARCHITECTURE.md "Observability and API description".',
    tags: ['system'],
    noDependencies: true,
    produces: 'prometheus',
  },
  {
    mount: '/admin/queues',
    summary: 'Queue dashboard (bull-board): every lane\'s queue and its jobs',
    description: 'The dashboard page; its own JSON API and assets are served under the same prefix.',
    tags: ['admin'],
    produces: 'html',
  },
];
