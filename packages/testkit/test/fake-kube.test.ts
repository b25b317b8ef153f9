import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  NetworkingV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubernetesObject,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeKube, type FakeKube } from '../src/index.js';

/** The fake Kubernetes API server driven by the real @kubernetes/client-node over HTTP. */

let kube: FakeKube;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let net: NetworkingV1Api;
let rbac: RbacAuthorizationV1Api;
let objects: KubernetesObjectApi;

beforeAll(async () => {
  kube = await startFakeKube({ readyDelayMs: 50, deleteDelayMs: 50 });
  kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfigYaml());
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  net = kc.makeApiClient(NetworkingV1Api);
  rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  objects = KubernetesObjectApi.makeApiClient(kc);
});

afterAll(async () => {
  await kube?.close();
});

/** The ApiException a call fails with, with its Status body parsed. */
async function failure(p: Promise<unknown>): Promise<{ code: number; status: any }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    return { code: e.code, status: body };
  }
  throw new Error('expected the call to fail');
}

const deployment = (name: string, namespace: string, image = 'nginx:1.27', labels: Record<string, string> = { app: name }): V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, labels },
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'main', image, ports: [{ containerPort: 80 }] }] } },
  },
});

async function namespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

describe('discovery', () => {
  it('answers /api, /apis, group versions and /version like the real API server', async () => {
    const versions = await core.getAPIResources();
    expect(versions.groupVersion).toBe('v1');
    const names = versions.resources.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['namespaces', 'pods', 'services', 'configmaps', 'secrets', 'serviceaccounts']));
    const svc = versions.resources.find((r) => r.name === 'services')!;
    expect(svc).toMatchObject({ singularName: 'service', namespaced: true, kind: 'Service' });
    expect(svc.verbs).toEqual(expect.arrayContaining(['create', 'get', 'list', 'patch', 'update', 'delete']));
    expect(versions.resources.find((r) => r.name === 'namespaces')!.namespaced).toBe(false);

    const appsList = await apps.getAPIResources();
    expect(appsList.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['deployments', 'statefulsets', 'daemonsets']));
    const netList = await net.getAPIResources();
    expect(netList.resources.find((r) => r.name === 'ingresses')?.kind).toBe('Ingress');
    const rbacList = await rbac.getAPIResources();
    expect(rbacList.resources.filter((r) => !r.name.includes('/')).map((r) => r.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

    const raw = async (path: string) => (await fetch(kube.url + path, { headers: { authorization: `Bearer ${kube.token}` } })).json() as Promise<any>;
    expect(await raw('/api')).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = await raw('/apis');
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(['apps', 'networking.k8s.io', 'rbac.authorization.k8s.io']));
    expect(await raw('/apis/apps')).toMatchObject({ kind: 'APIGroup', name: 'apps', preferredVersion: { groupVersion: 'apps/v1' } });
    expect((await fetch(`${kube.url}/version`)).status).toBe(200);
  });
});

describe('typed clients: create, read, list, replace, patch, delete', () => {
  it('creates with 201 bookkeeping, 409 on a duplicate, 404 on a missing object', async () => {
    await namespace('crud');
    const created = await core.createNamespacedConfigMap({ namespace: 'crud', body: { metadata: { name: 'cfg', labels: { tier: 'a' } }, data: { k: 'v' } } });
    expect(created.metadata?.uid).toMatch(/[0-9a-f-]{36}/);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.metadata?.namespace).toBe('crud');
    expect(kube.requests.some((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/crud/configmaps')).toBe(true);

    const dup = await failure(core.createNamespacedConfigMap({ namespace: 'crud', body: { metadata: { name: 'cfg' } } }));
    expect(dup.code).toBe(409);
    expect(dup.status).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409, details: { name: 'cfg', kind: 'configmaps' } });
    expect(dup.status.message).toBe('configmaps "cfg" already exists');

    const missing = await failure(apps.readNamespacedDeployment({ name: 'nope', namespace: 'crud' }));
    expect(missing.code).toBe(404);
    expect(missing.status).toMatchObject({ reason: 'NotFound', code: 404, message: 'deployments.apps "nope" not found', details: { name: 'nope', group: 'apps', kind: 'deployments' } });
  });

  it('refuses to create into a namespace that does not exist', async () => {
    const res = await failure(core.createNamespacedSecret({ namespace: 'ghost', body: { metadata: { name: 's' }, stringData: { a: 'b' } } }));
    expect(res.code).toBe(404);
    expect(res.status).toMatchObject({ reason: 'NotFound', message: 'namespaces "ghost" not found', details: { name: 'ghost', kind: 'namespaces' } });
  });

  it('lists per namespace and across namespaces with label selectors', async () => {
    await namespace('list-a');
    await namespace('list-b');
    const cm = (ns: string, name: string, labels: Record<string, string>) => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels } } });
    await cm('list-a', 'one', { app: 'x', tier: 'web' });
    await cm('list-a', 'two', { app: 'y', tier: 'db' });
    await cm('list-b', 'three', { app: 'x' });
    const names = (l: { items: Array<{ metadata?: { name?: string } }> }) => l.items.map((i) => i.metadata?.name).sort();

    expect(names(await core.listNamespacedConfigMap({ namespace: 'list-a' }))).toEqual(['one', 'two']);
    expect(names(await core.listConfigMapForAllNamespaces({ labelSelector: 'app=x' }))).toEqual(['one', 'three']);
    expect(names(await core.listConfigMapForAllNamespaces({ labelSelector: 'app!=x,app' }))).toEqual(['two']);
    expect(names(await core.listNamespacedConfigMap({ namespace: 'list-a', labelSelector: 'tier in (web,cache)' }))).toEqual(['one']);
    expect(names(await core.listNamespacedConfigMap({ namespace: 'list-a', labelSelector: 'tier notin (web)' }))).toEqual(['two']);
    expect(names(await core.listConfigMapForAllNamespaces({ labelSelector: 'app=x,!tier' }))).toEqual(['three']);
    const bad = await failure(core.listNamespacedConfigMap({ namespace: 'list-a', labelSelector: 'a in b)' }));
    expect(bad.code).toBe(400);
  });

  it('replaces with optimistic concurrency: a stale resourceVersion is a 409 Conflict', async () => {
    await namespace('replace');
    const first = await core.createNamespacedConfigMap({ namespace: 'replace', body: { metadata: { name: 'c' }, data: { v: '1' } } });
    const updated = await core.replaceNamespacedConfigMap({ name: 'c', namespace: 'replace', body: { ...first, data: { v: '2' } } });
    expect(updated.data).toEqual({ v: '2' });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(first.metadata?.resourceVersion));
    const stale = await failure(core.replaceNamespacedConfigMap({ name: 'c', namespace: 'replace', body: { ...first, data: { v: '3' } } }));
    expect(stale.code).toBe(409);
    expect(stale.status.reason).toBe('Conflict');
    expect(stale.status.message).toContain('the object has been modified');
    const unconditional = await core.replaceNamespacedConfigMap({ name: 'c', namespace: 'replace', body: { metadata: { name: 'c' }, data: { v: '4' } } });
    expect(unconditional.data).toEqual({ v: '4' });
  });

  it('bumps generation only when the spec changes', async () => {
    await namespace('gen');
    const d = await apps.createNamespacedDeployment({ namespace: 'gen', body: deployment('web', 'gen') });
    expect(d.metadata?.generation).toBe(1);
    // Unconditional replaces (no resourceVersion): the controllers write status in between.
    const labelled = await apps.replaceNamespacedDeployment({
      name: 'web',
      namespace: 'gen',
      body: { ...d, metadata: { ...d.metadata, resourceVersion: undefined, labels: { app: 'web', extra: 'yes' } } },
    });
    expect(labelled.metadata?.generation).toBe(1);
    const scaled = await apps.replaceNamespacedDeployment({
      name: 'web',
      namespace: 'gen',
      body: { ...labelled, metadata: { ...labelled.metadata, resourceVersion: undefined }, spec: { ...labelled.spec!, replicas: 2 } },
    });
    expect(scaled.metadata?.generation).toBe(2);
  });

  it('patches with merge, strategic merge and JSON patch content types', async () => {
    await namespace('patch');
    await apps.createNamespacedDeployment({ namespace: 'patch', body: deployment('web', 'patch') });
    const merge = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'patch', body: { metadata: { labels: { team: 'blue' } }, spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merge.metadata?.labels).toEqual({ app: 'web', team: 'blue' });
    expect(merge.spec?.replicas).toBe(3);
    expect(kube.requests.at(-1)?.contentType).toBe('application/merge-patch+json');

    const removeLabel = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'patch', body: { metadata: { labels: { team: null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(removeLabel.metadata?.labels).toEqual({ app: 'web' });

    const strategic = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'patch', body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['main', 'sidecar']);

    // The typed patch methods default to JSON patch.
    const json = await apps.patchNamespacedDeployment({
      name: 'web',
      namespace: 'patch',
      body: [
        { op: 'replace', path: '/spec/replicas', value: 1 },
        { op: 'add', path: '/metadata/annotations', value: { note: 'a/b' } },
        { op: 'remove', path: '/spec/template/spec/containers/1' },
      ],
    });
    expect(json.spec?.replicas).toBe(1);
    expect(json.metadata?.annotations).toEqual({ note: 'a/b' });
    expect(json.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['main']);
    expect(kube.requests.at(-1)?.contentType).toBe('application/json-patch+json');

    const failedTest = await failure(apps.patchNamespacedDeployment({ name: 'web', namespace: 'patch', body: [{ op: 'test', path: '/spec/replicas', value: 9 }] }));
    expect(failedTest.code).toBe(422);
    const missing = await failure(
      apps.patchNamespacedDeployment({ name: 'gone', namespace: 'patch', body: { spec: {} } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
    expect(missing.code).toBe(404);
  });

  it('deletes: the object lingers with a deletionTimestamp, then is gone; gracePeriodSeconds=0 is immediate', async () => {
    await namespace('del');
    await core.createNamespacedConfigMap({ namespace: 'del', body: { metadata: { name: 'slow' } } });
    await core.createNamespacedConfigMap({ namespace: 'del', body: { metadata: { name: 'fast' } } });
    kube.setDeleteDelay(300);
    try {
      await core.deleteNamespacedConfigMap({ name: 'slow', namespace: 'del', propagationPolicy: 'Foreground' });
      const lingering = await core.readNamespacedConfigMap({ name: 'slow', namespace: 'del' });
      expect(lingering.metadata?.deletionTimestamp).toBeInstanceOf(Date);
      await core.deleteNamespacedConfigMap({ name: 'fast', namespace: 'del', gracePeriodSeconds: 0 });
      expect((await failure(core.readNamespacedConfigMap({ name: 'fast', namespace: 'del' }))).code).toBe(404);
      await waitForValue(() => core.readNamespacedConfigMap({ name: 'slow', namespace: 'del' }).then(() => undefined, (e: ApiException<string>) => e.code));
      expect((await failure(core.deleteNamespacedConfigMap({ name: 'slow', namespace: 'del' }))).status.reason).toBe('NotFound');
    } finally {
      kube.setDeleteDelay(50);
    }
  });

  it('serves ingresses and the RBAC kinds', async () => {
    await namespace('misc');
    const ing = await net.createNamespacedIngress({
      namespace: 'misc',
      body: {
        metadata: { name: 'web' },
        spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
      },
    });
    expect(ing.metadata?.generation).toBe(1);
    await rbac.createNamespacedRole({ namespace: 'misc', body: { metadata: { name: 'writer' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace: 'misc',
      body: { metadata: { name: 'writer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'writer' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'misc' }] },
    });
    await rbac.createClusterRoleBinding({
      body: { metadata: { name: 'misc-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'misc' }] },
    });
    expect((await rbac.readClusterRole({ name: 'cluster-admin' })).rules?.[0].verbs).toEqual(['*']);
    const changedRef = await failure(
      rbac.replaceClusterRoleBinding({
        name: 'misc-view',
        body: { metadata: { name: 'misc-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [] },
      }),
    );
    expect(changedRef.code).toBe(422);
    expect(changedRef.status.message).toContain('cannot change roleRef');
    // Every namespace gets its default ServiceAccount from the service account controller.
    const sa = await waitForValue(() => core.readNamespacedServiceAccount({ name: 'default', namespace: 'misc' }).catch(() => undefined));
    expect(sa.metadata?.name).toBe('default');
  });
});

async function waitForValue<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('server-side apply through KubernetesObjectApi', () => {
  it('creates, then updates under one field manager, and reads and deletes generically', async () => {
    await namespace('ssa');
    const spec = deployment('api', 'ssa') as KubernetesObject;
    const created = await objects.patch(spec, undefined, undefined, 'ccg-gateway', true, PatchStrategy.ServerSideApply);
    expect(created.metadata?.uid).toBeDefined();
    const applyReq = kube.requests.filter((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/ssa/deployments/api');
    expect(applyReq.at(-1)).toMatchObject({ contentType: 'application/apply-patch+yaml', fieldManager: 'ccg-gateway', query: { force: 'true' } });
    // KubernetesObjectApi found the resource through discovery.
    expect(kube.requests.some((r) => r.path === '/apis/apps/v1' && r.method === 'GET')).toBe(true);
    expect((created.metadata as any).managedFields).toEqual([expect.objectContaining({ manager: 'ccg-gateway', operation: 'Apply' })]);

    const again = await objects.patch(deployment('api', 'ssa') as KubernetesObject, undefined, undefined, 'ccg-gateway', true, PatchStrategy.ServerSideApply);
    expect(again.metadata?.generation).toBe(1);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same', namespace: 'ssa' }, data: { a: '1' } };
    const cm1 = await objects.patch(cm, undefined, undefined, 'ccg-gateway', true, PatchStrategy.ServerSideApply);
    const cm2 = await objects.patch(cm, undefined, undefined, 'ccg-gateway', true, PatchStrategy.ServerSideApply);
    expect(cm2.metadata?.resourceVersion).toBe(cm1.metadata?.resourceVersion); // a no-op apply writes nothing

    const changed = deployment('api', 'ssa', 'nginx:1.28');
    changed.metadata!.annotations = { owner: 'gateway' };
    const updated = (await objects.patch(changed as KubernetesObject, undefined, undefined, 'ccg-gateway', true, PatchStrategy.ServerSideApply)) as V1Deployment;
    expect(updated.spec?.template.spec?.containers[0].image).toBe('nginx:1.28');
    expect(updated.metadata?.generation).toBe(2);

    // A field the manager stops applying is removed.
    const dropped = (await objects.patch(deployment('api', 'ssa', 'nginx:1.28') as KubernetesObject, undefined, undefined, 'ccg-gateway', true, PatchStrategy.ServerSideApply)) as V1Deployment;
    expect(dropped.metadata?.annotations).toBeUndefined();

    const read = (await objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'ssa' } })) as V1Deployment;
    expect(read.spec?.replicas).toBe(1);
    await objects.delete({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'ssa' } }, undefined, undefined, 0);
    expect((await failure(objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'ssa' } }))).code).toBe(404);
  });

  it('applies core and cluster-scoped kinds and YAML bodies; requires a field manager', async () => {
    const ns = await objects.patch({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ssa-ns', labels: { 'ccg/cluster-id': 'c1' } } }, undefined, undefined, 'ccg-gateway', true, PatchStrategy.ServerSideApply);
    expect(ns.metadata?.labels).toMatchObject({ 'ccg/cluster-id': 'c1', 'kubernetes.io/metadata.name': 'ssa-ns' });
    const crb = await objects.patch(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'ssa-binding' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'ssa-ns' }],
      } as KubernetesObject,
      undefined,
      undefined,
      'ccg-gateway',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(crb.metadata?.namespace).toBeUndefined();

    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n  namespace: ssa-ns\ndata:\n  key: value\n';
    const headers = { authorization: `Bearer ${kube.token}`, 'content-type': 'application/apply-patch+yaml' };
    const res = await fetch(`${kube.url}/api/v1/namespaces/ssa-ns/configmaps/from-yaml?fieldManager=someone`, { method: 'PATCH', headers, body: yaml });
    expect(res.status).toBe(201);
    expect(((await res.json()) as any).data).toEqual({ key: 'value' });
    const noManager = await fetch(`${kube.url}/api/v1/namespaces/ssa-ns/configmaps/from-yaml`, { method: 'PATCH', headers, body: yaml });
    expect(noManager.status).toBe(400);
    expect(((await noManager.json()) as any).message).toContain('fieldManager');
  });

  it('creates, lists and replaces through the generic client too', async () => {
    await namespace('generic');
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'generic', labels: { app: 'web' } }, spec: { ports: [{ port: 80 }], selector: { app: 'web' } } };
    const created = (await objects.create(svc)) as any;
    expect(created.spec.clusterIP).toMatch(/^10\.96\./);
    const list = await objects.list('v1', 'Service', 'generic', undefined, undefined, undefined, undefined, 'app=web');
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['web']);
    const replaced = (await objects.replace({ ...created, spec: { ...created.spec, ports: [{ port: 8080 }] } })) as any;
    expect(replaced.spec.ports[0]).toMatchObject({ port: 8080, targetPort: 8080 });
    expect(replaced.spec.clusterIP).toBe(created.spec.clusterIP);
  });

  it('reports a conflict with another manager unless forced', async () => {
    await namespace('ssa-conflict');
    const cm = (value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: 'ssa-conflict' }, data: { key: value } });
    await objects.patch(cm('a'), undefined, undefined, 'first', false, PatchStrategy.ServerSideApply);
    const res = await failure(objects.patch(cm('b'), undefined, undefined, 'second', false, PatchStrategy.ServerSideApply));
    expect(res.code).toBe(409);
    expect(res.status.message).toContain('conflict with "first"');
    const forced = (await objects.patch(cm('b'), undefined, undefined, 'second', true, PatchStrategy.ServerSideApply)) as any;
    expect(forced.data).toEqual({ key: 'b' });
  });
});

describe('validation: 422 Invalid and 400 BadRequest as the real server answers', () => {
  beforeAll(async () => {
    await namespace('invalid');
  });

  it('requires metadata.name', async () => {
    const res = await failure(core.createNamespacedConfigMap({ namespace: 'invalid', body: { metadata: {} } }));
    expect(res.code).toBe(422);
    expect(res.status).toMatchObject({ reason: 'Invalid', details: { kind: 'ConfigMap', causes: [expect.objectContaining({ field: 'metadata.name', reason: 'FieldValueRequired' })] } });
  });

  it('rejects a NodePort or ClusterIP Service without ports', async () => {
    for (const type of ['NodePort', 'ClusterIP']) {
      const res = await failure(core.createNamespacedService({ namespace: 'invalid', body: { metadata: { name: `noports-${type.toLowerCase()}` }, spec: { type, selector: { app: 'x' } } } }));
      expect(res.code).toBe(422);
      expect(res.status.message).toBe(`Service "noports-${type.toLowerCase()}" is invalid: spec.ports: Required value`);
    }
  });

  it('allocates clusterIP and node ports, refusing ports out of range or already allocated', async () => {
    const svc = await core.createNamespacedService({
      namespace: 'invalid',
      body: { metadata: { name: 'np' }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ name: 'api', port: 5000, nodePort: 32301 }, { name: 'other', port: 6000 }] } },
    });
    expect(svc.spec?.clusterIP).toMatch(/^10\.96\./);
    expect(svc.spec?.ports?.[0]).toMatchObject({ nodePort: 32301, targetPort: 5000, protocol: 'TCP' });
    const auto = svc.spec?.ports?.[1].nodePort ?? 0;
    expect(auto).toBeGreaterThanOrEqual(30000);
    expect(auto).toBeLessThanOrEqual(32767);

    const taken = await failure(
      core.createNamespacedService({ namespace: 'invalid', body: { metadata: { name: 'np2' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 32301 }] } } }),
    );
    expect(taken.code).toBe(422);
    expect(taken.status.message).toBe('Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 32301: provided port is already allocated');
    const range = await failure(
      core.createNamespacedService({ namespace: 'invalid', body: { metadata: { name: 'np3' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] } } }),
    );
    expect(range.status.message).toContain('provided port is not in the valid range. The range of valid ports is 30000-32767');

    // A replace without clusterIP/nodePorts keeps the allocated ones.
    const replaced = await core.replaceNamespacedService({
      name: 'np',
      namespace: 'invalid',
      body: { metadata: { name: 'np' }, spec: { type: 'NodePort', selector: { app: 'y' }, ports: [{ name: 'api', port: 5000, nodePort: 32301 }, { name: 'other', port: 6000 }] } },
    });
    expect(replaced.spec?.clusterIP).toBe(svc.spec?.clusterIP);
    expect(replaced.spec?.ports?.[1].nodePort).toBe(auto);
  });

  it('rejects a workload whose selector does not match its template labels', async () => {
    for (const [kind, create] of [
      ['Deployment', (body: any) => apps.createNamespacedDeployment({ namespace: 'invalid', body })],
      ['DaemonSet', (body: any) => apps.createNamespacedDaemonSet({ namespace: 'invalid', body })],
      ['StatefulSet', (body: any) => apps.createNamespacedStatefulSet({ namespace: 'invalid', body })],
    ] as const) {
      const body = { ...deployment('mismatch', 'invalid'), apiVersion: 'apps/v1', kind };
      body.spec!.selector = { matchLabels: { app: 'other' } };
      delete (body.spec as any).replicas;
      const res = await failure(create(body));
      expect(res.code).toBe(422);
      expect(res.status.message).toContain('spec.template.metadata.labels: Invalid value');
      expect(res.status.message).toContain('`selector` does not match template `labels`');
    }
  });

  it('rejects a body whose kind or apiVersion does not match the URL, and bad JSON', async () => {
    const wrongKind = await failure(core.createNamespacedConfigMap({ namespace: 'invalid', body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } } as any }));
    expect(wrongKind.code).toBe(400);
    expect(wrongKind.status.reason).toBe('BadRequest');
    const wrongVersion = await failure(apps.createNamespacedDeployment({ namespace: 'invalid', body: { ...deployment('v', 'invalid'), apiVersion: 'apps/v1beta1' } }));
    expect(wrongVersion.status.message).toContain('does not match the expected API version (apps/v1)');
    const res = await fetch(`${kube.url}/api/v1/namespaces/invalid/configmaps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${kube.token}`, 'content-type': 'application/json' },
      body: '{"metadata": {',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
  });
});

describe('authentication', () => {
  it('answers 401 Unauthorized without the bearer token', async () => {
    const other = new KubeConfig();
    other.loadFromString(kube.kubeconfigYaml().replace(kube.token, 'wrong-token'));
    const res = await failure(other.makeApiClient(CoreV1Api).listNamespace());
    expect(res.code).toBe(401); // the typed client drops the body of a 401
    const bare = await fetch(`${kube.url}/api/v1/namespaces`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
  });
});
