/**
 * `npm start`: the zero-setup gateway. API and workers in one process; with no DATABASE_URL an
 * embedded Postgres under DATA_DIR, with no REDIS_URL BullMQ's Postgres backend.
 */
import { loadConfig } from '@ccg/config';
import { createApp, createAuth, createServices, drainServer, ensureZeroSetupAdminToken, listen } from '@ccg/api';
import { startWorker } from '@ccg/worker';
import { createPolicySystem } from '@ccg/policy';
import { createCatalogue, createQueues, ensureEncryptionKey, openDatabase, runMain } from '@ccg/runtime';

await runMain('gateway', async (log) => {
  const config = loadConfig();
  const encryptionKey = await ensureEncryptionKey(config, log);
  const withKey = { ...config, encryptionKey };
  const database = await openDatabase(config, log, true);
  const queues = createQueues(config, database.url);
  const catalogue = createCatalogue();
  const policy = await createPolicySystem(database.url, config.policy, log.child({ component: 'policy' }));
  if (!(await queues.warmUp(catalogue.lanes()))) log.warn({ queue_backend: queues.name }, 'the task queue is not reachable yet; task-starting requests answer 503 until it is');
  const services = createServices(database.handle.db, queues, catalogue, withKey, policy);
  // The workers report to the API's registry: one /metrics shows HTTP, queue, job, pre-check and upstream families.
  const worker = startWorker(database.handle.db, queues, createCatalogue, withKey, log, encryptionKey, policy, {
    onJobEnd: services.telemetry.observeJob,
    onUpstreamCall: services.telemetry.observeUpstream,
  });
  const auth = await createAuth(database.handle.db, database.url, config.auth, log.child({ component: 'auth' }));
  await ensureZeroSetupAdminToken(config, auth, log);
  const shutdown = new AbortController();
  const server = await listen(createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log, auth, shutdown: shutdown.signal }), config.port, config.host);
  const internal = config.internalPort === undefined ? undefined : await listen(createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log, auth, listener: 'internal', shutdown: shutdown.signal }), config.internalPort, config.internalHost);
  log.info(
    { port: config.port, internal_port: config.internalPort ?? null, database: database.embedded ? `embedded (${config.dataDir})` : 'DATABASE_URL', queue_backend: queues.name, auth: auth.disabled ? 'disabled' : 'api keys' },
    `gateway listening on http://localhost:${config.port}`,
  );
  return async () => {
    // HTTP first (stop accepting, end event streams, drain), then the workers: running tasks get
    // WORKER_SHUTDOWN_GRACE_MS to finish, then go back to the queue for the next start.
    shutdown.abort();
    await Promise.all([drainServer(server, config.httpDrainMs), internal && drainServer(internal, config.httpDrainMs)]);
    await auth.close();
    await worker.close(config.worker.shutdownGraceMs);
    await policy.close();
    await queues.close();
    await database.close();
  };
});
