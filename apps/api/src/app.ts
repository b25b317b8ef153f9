import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { NotFoundError } from '@ccg/contracts';
import type { Services } from './services.js';
import { errorHandler } from './errors.js';
import { chain, requestContext, requireJsonBody, whenBody } from './middleware.js';
import { guardJsonBody } from './body-guard.js';
import { httpObserver, mountLabel } from './observability/http-metrics.js';
import { queueDashboard } from './observability/queue-dashboard.js';
import { buildOpenApiDocument } from './openapi/document.js';
import { routeCatalogue } from './openapi/operations/index.js';
import { apiDocsRoutes } from './routes/api-docs.js';
import { metricsExpositionRoutes } from './routes/observability.js';
import { authGate, authRoutes, type AuthSystem, type Listener } from './auth/index.js';
import { clusterRoutes } from './routes/clusters.js';
import { blockRoutes } from './routes/blocks.js';
import { taskRoutes } from './routes/tasks.js';
import { taskEventRoutes } from './routes/task-events.js';
import { adminRoutes } from './routes/admin.js';
import { healthRoutes } from './routes/health.js';
import { policyRoutes } from './routes/policies.js';
import { metricsRoutes } from './routes/metrics.js';
import { nodeRoutes } from './routes/nodes.js';
import { controllerRoutes } from './routes/controller.js';
import { clusterQueryRoutes } from './routes/cluster-query.js';
import { blockActionRoutes } from './routes/block-actions.js';
import { infraRoutes } from './routes/infra.js';

export interface AppOptions {
  bodyLimitBytes: number;
  log: Logger;
  /** API keys and whether auth is on (docs/AUTH.md). */
  auth: AuthSystem;
  /** External (users, with tokens) or internal (management services; only the routes they call). @defaultValue 'external' */
  listener?: Listener;
  /** Aborted when the process shuts down: long-lived responses (task event streams) end then. */
  shutdown?: AbortSignal;
}

/** The HTTP API: validation and routing only; every route calls one service. */
export function createApp(services: Services, opts: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Every request passes these, in this order; one layer (see chain).
  app.use(
    chain(
      requestContext(opts.log, httpObserver(services.telemetry)),
      authGate({ listener: opts.listener ?? 'external', disabled: opts.auth.disabled, store: opts.auth.store }),
      // Requests without a body (most reads) skip the body handling altogether.
      whenBody(chain(requireJsonBody, express.json({ limit: opts.bodyLimitBytes, type: ['application/json', 'application/*+json'] }), guardJsonBody)),
    ),
  );

  app.use(healthRoutes(services.db, services.queues));
  app.use(metricsExpositionRoutes(services.telemetry));
  app.use(apiDocsRoutes(buildOpenApiDocument({ routes: routeCatalogue, catalogue: services.catalogue })));
  app.use('/admin/queues', mountLabel('/admin/queues'), queueDashboard(services.queues, services.catalogue.lanes(), '/admin/queues'));
  app.use(authRoutes(opts.auth.keys));
  app.use(clusterRoutes(services.clusters));
  app.use(blockRoutes(services.blocks));
  app.use(taskRoutes(services.tasks));
  app.use(taskEventRoutes(services.tasks, { shutdown: opts.shutdown }));
  app.use(adminRoutes(services.tasks));
  app.use(policyRoutes(services.policy, services.policyAdmin));
  app.use(metricsRoutes(services.metrics));
  app.use(nodeRoutes(services.nodes, services.membership));
  app.use(clusterQueryRoutes(services.db));
  app.use(controllerRoutes({ controller: services.controller, mgmt: services.mgmt, vdag: services.vdag }));
  app.use(blockActionRoutes(services.blockActions));
  app.use(infraRoutes(services.infra));

  app.use((req, _res, next) => next(new NotFoundError(`no route ${req.method} ${req.path}`, { method: req.method, path: req.path })));
  app.use(errorHandler(opts.log));
  return app;
}
