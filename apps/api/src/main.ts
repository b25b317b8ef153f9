/** `npm run start:api`: the HTTP API only (production split; needs DATABASE_URL). */
import { ConfigError, loadConfig } from '@ccg/config';
import { createPolicySystem } from '@ccg/policy';
import { createCatalogue, createQueues, openDatabase, runMain } from '@ccg/runtime';
import { createApp } from './app.js';
import { createServices } from './services.js';
import { listen } from './listen.js';
import { drainServer } from './shutdown.js';
import { createAuth } from './auth/index.js';

await runMain('api', async (log) => {
  const config = loadConfig();
  if (!config.encryptionKey) throw new ConfigError('KUBECONFIG_ENCRYPTION_KEY', 'is required when the API and workers run as separate processes (both must have the same key)');
  const database = await openDatabase(config, log, false);
  const queues = createQueues(config, database.url);
  const policy = await createPolicySystem(database.url, config.policy, log.child({ component: 'policy' }));
  const catalogue = createCatalogue();
  if (!(await queues.warmUp(catalogue.lanes()))) log.warn({ queue_backend: queues.name }, 'the task queue is not reachable yet; task-starting requests answer 503 until it is');
  const services = createServices(database.handle.db, queues, catalogue, config, policy);
  const auth = await createAuth(database.handle.db, database.url, config.auth, log.child({ component: 'auth' }));
  const shutdown = new AbortController();
  const server = await listen(createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log, auth, shutdown: shutdown.signal }), config.port, config.host);
  // The management services' routes, without tokens: bind it where only they can reach it.
  const internal = config.internalPort === undefined ? undefined : await listen(createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log, auth, listener: 'internal', shutdown: shutdown.signal }), config.internalPort, config.internalHost);
  log.info({ port: config.port, internal_port: config.internalPort ?? null, queue_backend: queues.name, auth: auth.disabled ? 'disabled' : 'api keys' }, 'API listening');
  return async () => {
    // Stop accepting, end event streams, let requests in flight finish (up to HTTP_DRAIN_MS).
    shutdown.abort();
    await Promise.all([drainServer(server, config.httpDrainMs), internal && drainServer(internal, config.httpDrainMs)]);
    await auth.close();
    await policy.close();
    await queues.close();
    await database.close();
  };
});
