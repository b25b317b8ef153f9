import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@ccg/config';

describe('loadConfig', () => {
  it('has the documented defaults with no environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(5000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.queueBackend).toBe('postgres');
    expect(c.dataDir).toBe('.data');
    expect(c.bodyLimitBytes).toBe(1024 * 1024);
    expect(c.taskRetentionMs).toBe(7 * 24 * 3600 * 1000);
  });

  it('parses the spec sample actions map, strings and option objects', () => {
    const map = { add_node: 'aiosv1.policies.cluster-controller-gateway.add-node:v0.0.1-stable', remove_node: { policyRuleURI: 'a.b:v1', mode: 'audit', failurePolicy: 'open', timeoutMs: 200 } };
    expect(loadConfig({ CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP: JSON.stringify(map) }).policy.actionsMap).toEqual(map);
  });

  it('REDIS_URL selects the Redis queue backend', () => {
    expect(loadConfig({ REDIS_URL: 'redis://localhost:6379' }).queueBackend).toBe('redis');
  });

  it('parses sizes and keys', () => {
    expect(loadConfig({ BODY_LIMIT: '512kb' }).bodyLimitBytes).toBe(512 * 1024);
    expect(loadConfig({ KUBECONFIG_ENCRYPTION_KEY: 'ab'.repeat(32) }).encryptionKey?.length).toBe(32);
    expect(loadConfig({ KUBECONFIG_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).encryptionKey?.length).toBe(32);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://localhost'],
    ['LOG_LEVEL', 'loud'],
    ['BODY_LIMIT', 'huge'],
    ['KUBECONFIG_ENCRYPTION_KEY', 'short'],
    ['WORKER_CONCURRENCY', '0'],
    ['JOB_LOCK_DURATION_MS', '1.5'],
    ['QUEUE_PREFIX', 'has space'],
    ['TASK_RETENTION_HOURS', '-1'],
    ['CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP', '{"add_node": '],
    ['CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP', '{"add_nodes": "a:v1"}'],
    ['CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP', '{"add_node": {"policyRuleURI": "a:v1", "mode": "sometimes"}}'],
    ['CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP', '{"add_node": ""}'],
    ['POLICY_TIMEOUT_MS', '0'],
  ])('a bad %s (%s) is refused with a message naming it', (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toContain(name);
  });
});
