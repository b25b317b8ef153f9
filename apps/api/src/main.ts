/** `npm run start:api`: the HTTP API only (production split; needs DATABASE_URL). */
import { ConfigError, loadConfig } from '@ccg/config';
import { createPolicySystem } from '@ccg/policy';
import { createCatalogue, createQueues, openDatabase, runMain } from '@ccg/runtime';
import { createApp } from './app.js';
import { createServices } from './services.js';
import { listen } from './listen.js';
import { createAuth } from './auth/index.js';

await runMain('api', async (log) => {
  const config = loadConfig();
  if (!config.encryptionKey) throw new ConfigError('KUBECONFIG_ENCRYPTION_KEY', 'is required when the API and workers run as separate processes (both must have the same key)');
  const database = await openDatabase(config, log, false);
  const queues = createQueues(config, database.url);
  const policy = await createPolicySystem(database.url, config.policy, log.child({ component: 'policy' }));
  const services = createServices(database.handle.db, queues, createCatalogue(), config, policy);
  const auth = await createAuth(database.handle.db, database.url, config.auth, log.child({ component: 'auth' }));
  const server = await listen(createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log, auth }), config.port, config.host);
  // The management services' routes, without tokens: bind it where only they can reach it.
  const internal = config.internalPort === undefined ? undefined : await listen(createApp(services, { bodyLimitBytes: config.bodyLimitBytes, log, auth, listener: 'internal' }), config.internalPort, config.internalHost);
  log.info({ port: config.port, internal_port: config.internalPort ?? null, queue_backend: queues.name, auth: auth.disabled ? 'disabled' : 'api keys' }, 'API listening');
  return async () => {
    await new Promise((r) => server.close(r));
    if (internal) await new Promise((r) => internal.close(r));
    await auth.close();
    await policy.close();
    await queues.close();
    await database.close();
  };
});
