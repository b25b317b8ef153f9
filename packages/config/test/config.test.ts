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

  it('infra settings default to the reference values with public images, and take overrides', () => {
    const d = loadConfig({}).infra;
    expect(d).toMatchObject({ allowKubeconfigExec: false, rollbackOnFailure: true, stepTimeoutMs: 300_000, namespaces: { metrics: 'metrics', controllers: 'controllers' }, globalServices: {} });
    expect(d.nodePorts).toEqual({ controller: 32300, metricsWriter: 32301, blockTransactions: 32302, parameterUpdater: 32303, monitor: 32304, health: 32305, membershipServer: 30501, grpcProxy: 32000 });
    for (const image of Object.values(d.images)) expect(image).not.toMatch(/^\d+\.\d+\.\d+\.\d+/);
    const c = loadConfig({ ALLOW_KUBECONFIG_EXEC: 'true', INFRA_IMAGE_REGISTRY: 'registry.local:5000/aios', GRPC_PROXY_IMAGE: 'proxy:1.2', INFRA_NODE_PORTS: '{"controller": 31000}', GLOBAL_SERVICES_MAP: '{"policy_db_url": "http://p:1"}', INFRA_ROLLBACK_ON_FAILURE: 'false' }).infra;
    expect(c.allowKubeconfigExec).toBe(true);
    expect(c.images.infra).toBe('registry.local:5000/aios/cluster/infra:latest');
    expect(c.images.grpcProxy).toBe('proxy:1.2');
    expect(c.nodePorts.controller).toBe(31000);
    expect(c.globalServices).toEqual({ policy_db_url: 'http://p:1' });
    expect(c.rollbackOnFailure).toBe(false);
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
    ['ALLOW_KUBECONFIG_EXEC', 'maybe'],
    ['GLOBAL_SERVICES_MAP', '["a"]'],
    ['GLOBAL_SERVICES_MAP', '{"policy_db_url": 5}'],
    ['INFRA_NODE_PORTS', '{"controller": 80}'],
    ['INFRA_NODE_PORTS', '{"controler": 32300}'],
    ['INFRA_NODE_PORTS', '{"controller": 32000}'],
    ['MEMBERSHIP_NODE_PORT', '99999'],
    ['INFRA_METRICS_NAMESPACE', 'Metrics_NS'],
    ['INFRA_CONTROLLERS_NAMESPACE', 'metrics'],
    ['INFRA_CONTAINER_IMAGE_NAME', 'has space:latest'],
    ['INFRA_IMAGE_REGISTRY', 'http://registry'],
    ['INFRA_POLL_MAX_MS', '100'],
    ['INFRA_STEP_TIMEOUT_MS', '5'],
    ['INFRA_ROLLBACK_ON_FAILURE', 'sometimes'],
    ['INFRA_INGRESS_CLASS', 'Nginx Class'],
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
