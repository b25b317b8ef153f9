/** `npm run start:worker`: job processors only (production split; needs DATABASE_URL). */
import { ConfigError, loadConfig } from '@ccg/config';
import { GatewayMetrics, createCatalogue, createQueues, openDatabase, runMain, serveMetrics, type MetricsServer } from '@ccg/runtime';
import { createPolicySystem } from '@ccg/policy';
import { startWorker } from './index.js';

await runMain('worker', async (log) => {
  const config = loadConfig();
  if (!config.encryptionKey) throw new ConfigError('KUBECONFIG_ENCRYPTION_KEY', 'is required when the API and workers run as separate processes (both must have the same key)');
  const database = await openDatabase(config, log, false);
  const queues = createQueues(config, database.url);
  const policy = await createPolicySystem(database.url, config.policy, log.child({ component: 'policy' }));
  // What this process does (jobs, upstream calls, pre-checks of allocator rules); queue depth is the API's.
  const telemetry = new GatewayMetrics();
  policy.gate.observe(telemetry.observePrecheck);
  const worker = startWorker(database.handle.db, queues, createCatalogue, config, log, undefined, policy, {
    onJobEnd: telemetry.observeJob,
    onUpstreamCall: telemetry.observeUpstream,
  });
  let metricsServer: MetricsServer | undefined;
  if (config.worker.metricsPort !== undefined) {
    metricsServer = await serveMetrics(telemetry, config.worker.metricsPort, config.host);
  }
  log.info({ queue_backend: queues.name, concurrency: config.worker.concurrency, metrics_port: metricsServer?.port }, 'worker started');
  return async () => {
    // Running tasks get WORKER_SHUTDOWN_GRACE_MS to finish, then go back to the queue for another worker.
    await worker.close(config.worker.shutdownGraceMs);
    await metricsServer?.close();
    await policy.close();
    await queues.close();
    await database.close();
  };
});
