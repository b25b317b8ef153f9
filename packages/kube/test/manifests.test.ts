import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '@ccg/config';
import {
  CLUSTER_ID_LABEL,
  CREATION_STEPS,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  OBJECT_STEPS,
  REMOVAL_STEPS,
  allObjects,
  checkCreatePrerequisites,
  clusterLabelValue,
  clusterSlug,
  objectsForStep,
  removalObjectsForStep,
  resolveInfraSettings,
  urlMap,
  type KubeObject,
} from '@ccg/kube';

const GLOBALS = {
  global_block_metrics_redis_host: 'redis://mgmt.example:30200/0',
  global_cluster_metrics_redis_host: 'redis://mgmt.example:30200/0',
  global_vdag_metrics_redis_host: 'redis://mgmt.example:30200/0',
  policy_db_url: 'http://mgmt.example:30102',
  blocks_db_url: 'http://mgmt.example:30100',
  cluster_db_url: 'http://mgmt.example:30101',
  vdag_db_url: 'http://mgmt.example:30103',
  vdag_controller_db_url: 'http://mgmt.example:30103',
};
const config = loadConfig({ GLOBAL_SERVICES_MAP: JSON.stringify(GLOBALS) }).infra;
const cluster = (extra: Record<string, unknown> = {}, id = 'cluster-123') => ({ id, config: { publicHostname: 'gpu.example.org', ...extra } });

const modes = [
  ['NodePort', resolveInfraSettings(config, cluster())],
  ['Ingress', resolveInfraSettings(config, cluster({ useGateway: true }))],
] as const;

const label = (o: KubeObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe.each(modes)('manifests (%s exposure)', (_mode, s) => {
  const objects = allObjects(s);

  it('every Service has ports, and none exposes Redis outside the cluster', () => {
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services.length).toBeGreaterThan(4);
    for (const svc of services) {
      const spec = svc.spec as { type: string; ports: Array<{ port: number; nodePort?: number }> };
      expect(spec.ports.length).toBeGreaterThan(0);
      if (spec.type === 'NodePort') expect(spec.ports.map((p) => p.port)).not.toContain(6379);
    }
  });

  it('labels every object and pod template with the manager and the cluster id, the real id in an annotation', () => {
    for (const o of objects) {
      expect(o.metadata.labels?.[MANAGED_BY_LABEL]).toBe(MANAGED_BY);
      expect(o.metadata.labels?.[CLUSTER_ID_LABEL]).toBe('cluster-123');
      expect(o.metadata.annotations?.[CLUSTER_ID_LABEL]).toBe('cluster-123');
      const template = (o.spec as { template?: { metadata: { labels: Record<string, string> } } } | undefined)?.template;
      if (template) expect(template.metadata.labels[CLUSTER_ID_LABEL]).toBe('cluster-123');
    }
  });

  it('grants no cluster-admin and binds nothing to default service accounts', () => {
    for (const o of objects.filter((x) => x.kind.endsWith('Binding'))) {
      expect((o.roleRef as { name: string }).name).not.toBe('cluster-admin');
      for (const subject of o.subjects as Array<{ name: string }>) expect(subject.name).not.toBe('default');
    }
    for (const role of objects.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
      for (const rule of role.rules as Array<{ resources: string[]; verbs: string[] }>) {
        expect(rule.resources).not.toContain('*');
        expect(rule.verbs).not.toContain('*');
        if (role.kind === 'ClusterRole') expect(rule.resources).not.toContain('secrets');
      }
    }
  });

  it('every workload container that declares a port has a readiness probe, except the documented health container', () => {
    for (const o of objects.filter((x) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(x.kind))) {
      const containers = (o.spec as any).template.spec.containers as Array<{ name: string; ports?: unknown[]; readinessProbe?: unknown }>;
      for (const c of containers) if (c.name !== 'health') expect([label(o), c.name, c.readinessProbe !== undefined]).toEqual([label(o), c.name, true]);
    }
  });

  it('has no duplicate objects and every namespaced object names its namespace', () => {
    const names = objects.map(label);
    expect(new Set(names).size).toBe(names.length);
    for (const o of objects) if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) expect(o.metadata.namespace).toBeTruthy();
  });

  it('the url map holds six plain string URLs on the public host', () => {
    const map = urlMap(s);
    expect(Object.keys(map).sort()).toEqual(['blocksQuery', 'controllerService', 'membershipServer', 'metricsService', 'parameterUpdater', 'publicGateway']);
    for (const v of Object.values(map)) {
      expect(typeof v).toBe('string');
      expect(new URL(v).hostname).toBe('gpu.example.org');
    }
  });
});

describe('steps and modes', () => {
  const [, nodePort] = modes[0];
  const [, ingress] = modes[1];

  it('creation has the spec steps a–f and removal is their reverse', () => {
    expect(CREATION_STEPS).toEqual(['metrics-db', 'metrics-services', 'metrics-collector', 'cluster-controller', 'exposure', 'url-map']);
    expect(REMOVAL_STEPS.slice(0, 5)).toEqual([...OBJECT_STEPS].reverse());
  });

  it('the reference objects are where the reference puts them', () => {
    const names = (step: (typeof OBJECT_STEPS)[number]) => objectsForStep(step, nodePort).map(label);
    expect(names('metrics-db')).toEqual(['Namespace /metrics', 'Deployment metrics/cluster-metrics', 'Service metrics/cluster-metrics-svc']);
    expect(names('metrics-services')).toEqual(['Deployment metrics/metrics-writer', 'Service metrics/metrics-writer-svc']);
    expect(names('metrics-collector')).toEqual(['DaemonSet metrics/metrics-collector']);
    expect(names('cluster-controller')).toEqual(expect.arrayContaining(['Deployment controllers/cluster-123-controller', 'Service controllers/cluster-123-controller-svc', 'Deployment controllers/membership-server', 'Service controllers/membership-server-svc', 'Deployment controllers/grpc-proxy', 'Service controllers/grpc-proxy', 'Role kube-system/bootstrap-token-writer', 'RoleBinding kube-system/bootstrap-token-writer-binding']));
  });

  it('NodePort exposure uses the reference node ports; Ingress exposure routes paths to the in-cluster services', () => {
    const nodePorts = objectsForStep('exposure', nodePort).flatMap((o) => ((o.spec as any).ports ?? []).map((p: any) => p.nodePort));
    expect(nodePorts.sort()).toEqual([30501, 32000, 32300, 32301, 32302, 32303, 32304, 32305]);
    const ingresses = objectsForStep('exposure', ingress).filter((o) => o.kind === 'Ingress');
    const paths = ingresses.flatMap((i) => (i.spec as any).rules[0].http.paths.map((p: any) => `${p.path} -> ${p.backend.service.name}:${p.backend.service.port.number}`));
    expect(paths).toEqual(expect.arrayContaining(['/controller(/|$)(.*) -> cluster-123-controller-svc:4000', '/blocks(/|$)(.*) -> cluster-123-controller-svc:7500', '/mgmt(/|$)(.*) -> cluster-123-controller-svc:10000', '/metrics(/|$)(.*) -> metrics-writer-svc:5000']));
    expect(urlMap(ingress).controllerService).toBe('http://gpu.example.org/controller');
    expect(urlMap(nodePort)).toEqual({
      controllerService: 'http://gpu.example.org:32300',
      metricsService: 'http://gpu.example.org:32301',
      parameterUpdater: 'http://gpu.example.org:32303',
      membershipServer: 'http://gpu.example.org:30501',
      blocksQuery: 'http://gpu.example.org:32302',
      publicGateway: 'http://gpu.example.org:32000',
    });
  });

  it('removal of the exposure step covers both modes, in reverse order', () => {
    const kinds = removalObjectsForStep('exposure', nodePort).map((o) => o.kind);
    expect(kinds).toContain('Ingress');
    expect(removalObjectsForStep('metrics-db', nodePort).map(label)).toEqual(['Service metrics/cluster-metrics-svc', 'Deployment metrics/cluster-metrics', 'Namespace /metrics']);
  });

  it('the controller env comes from the cluster entry and GLOBAL_SERVICES_MAP', () => {
    const s = resolveInfraSettings(config, cluster({ policyExecutorId: 'exec-7', actionsPolicyMap: { scale: 'p:v1' }, clusterMetricsCollectInterval: 12 }));
    const controller = objectsForStep('cluster-controller', s).find((o) => o.kind === 'Deployment' && o.metadata.name === 'cluster-123-controller')!;
    const infra = (controller.spec as any).template.spec.containers.find((c: any) => c.name === 'infra');
    const env = Object.fromEntries(infra.env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ CLUSTER_ID: 'cluster-123', POLICY_SYSTEM_EXECUTOR_ID: 'exec-7', CLUSTER_ACTIONS_MAP: '{"scale":"p:v1"}', CLUSTER_SERVICE_URL: GLOBALS.cluster_db_url, POLICY_DB_URL: GLOBALS.policy_db_url });
    const collector = objectsForStep('metrics-collector', s)[0];
    const cenv = Object.fromEntries((collector.spec as any).template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(cenv.COLLECT_INTERVAL).toBe('12');
  });
});

describe('cluster ids and prerequisites', () => {
  it('keeps DNS-friendly ids, hashes the others into valid names and label values', () => {
    expect(clusterSlug('cluster-123')).toBe('cluster-123');
    for (const id of ['Cluster_ABC', '9lives', 'a'.repeat(63), 'x.y.z']) {
      const slug = clusterSlug(id);
      expect(`${slug}-controller-svc`).toMatch(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/);
      expect(clusterSlug(id)).toBe(slug);
    }
    expect(clusterSlug('Cluster_ABC')).not.toBe(clusterSlug('cluster-abc'));
    expect(clusterLabelValue('Cluster_ABC')).toBe('Cluster_ABC');
    expect(clusterLabelValue('-bad-')).toMatch(/^h-[0-9a-f]{40}$/);
  });

  it('creation needs a public hostname and the GLOBAL_SERVICES_MAP keys', () => {
    expect(() => checkCreatePrerequisites(resolveInfraSettings(config, { id: 'c1', config: {} }))).toThrow(/publicHostname/);
    expect(() => checkCreatePrerequisites(resolveInfraSettings(config, cluster({ publicHostname: 'http://x:80/' })))).toThrow(/bare host name/);
    const bare = loadConfig({}).infra;
    expect(() => checkCreatePrerequisites(resolveInfraSettings(bare, cluster()))).toThrow(/GLOBAL_SERVICES_MAP lacks global_block_metrics_redis_host/);
    expect(() => checkCreatePrerequisites(resolveInfraSettings(config, cluster()))).not.toThrow();
  });

  it('the cluster entry can turn rollback off', () => {
    expect(resolveInfraSettings(config, cluster()).rollbackOnFailure).toBe(true);
    expect(resolveInfraSettings(config, cluster({ infra: { rollbackOnFailure: false } })).rollbackOnFailure).toBe(false);
  });
});
