/** `npm run start:worker`: job processors only (production split; needs DATABASE_URL). */
import { ConfigError, loadConfig } from '@ccg/config';
import { createCatalogue, createQueues, openDatabase, runMain } from '@ccg/runtime';
import { createPolicySystem } from '@ccg/policy';
import { startWorker } from './index.js';

await runMain('worker', async (log) => {
  const config = loadConfig();
  if (!config.encryptionKey) throw new ConfigError('KUBECONFIG_ENCRYPTION_KEY', 'is required when the API and workers run as separate processes (both must have the same key)');
  const database = await openDatabase(config, log, false);
  const queues = createQueues(config, database.url);
  const policy = await createPolicySystem(database.url, config.policy, log.child({ component: 'policy' }));
  const worker = startWorker(database.handle.db, queues, createCatalogue, config, log, undefined, policy);
  log.info({ queue_backend: queues.name, concurrency: config.worker.concurrency }, 'worker started');
  return async () => {
    // Running tasks get WORKER_SHUTDOWN_GRACE_MS to finish, then go back to the queue for another worker.
    await worker.close(config.worker.shutdownGraceMs);
    await policy.close();
    await queues.close();
    await database.close();
  };
});
