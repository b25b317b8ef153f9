import fc from 'fast-check';
import { ApiException, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeKube, waitFor, type FakeKube } from '../src/index.js';
import { RESOURCE_TYPES } from '../src/fake-kube/resources.js';

/** The fake API server under bad input, concurrency and the less common verbs (watch, deletecollection, finalizers). */

let kube: FakeKube;
let core: CoreV1Api;
let kc: KubeConfig;

beforeAll(async () => {
  kube = await startFakeKube({ readyDelayMs: 20, deleteDelayMs: 30 });
  kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfigYaml());
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'robust' } } });
});

afterAll(async () => {
  await kube?.close();
});

async function raw(method: string, path: string, body?: string, contentType = 'application/json') {
  const res = await fetch(kube.url + path, {
    method,
    headers: { authorization: `Bearer ${kube.token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: (() => { try { return JSON.parse(text); } catch { return undefined; } })() };
}

const pathOf = (group: string, plural: string, namespaced: boolean, name?: string) =>
  `${group ? `/apis/${group}/v1` : '/api/v1'}${namespaced ? '/namespaces/robust' : ''}/${plural}${name ? `/${name}` : ''}`;

describe('bad input never breaks the server', () => {
  it('answers any JSON body on any verb and kind with an object or a Status, never a 500', async () => {
    const kinds = RESOURCE_TYPES.filter((r) => !r.readOnly);
    const contentTypes = ['application/json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json', 'application/apply-patch+yaml'];
    // Bodies that look like objects of the kind half of the time, so validation paths run too.
    const metadata = fc.record({ name: fc.constantFrom('a', 'b', 'Bad_Name', ''), labels: fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }) }, { requiredKeys: [] });
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ metadata, spec: fc.jsonValue(), data: fc.jsonValue(), roleRef: fc.jsonValue() }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...kinds), fc.constantFrom('POST', 'PUT', 'PATCH'), fc.constantFrom(...contentTypes), body, async (rt, method, ct, doc) => {
        const path = pathOf(rt.group, rt.plural, rt.namespaced, method === 'POST' ? undefined : 'a');
        const res = await raw(method, path, JSON.stringify(doc), method === 'PATCH' ? ct : 'application/json');
        expect(res.status).not.toBe(500);
        expect(res.json).toBeDefined();
        if (res.status >= 400) expect(res.json).toMatchObject({ kind: 'Status', status: 'Failure', code: res.status });
      }),
      { numRuns: 300 },
    );
    // Malformed text and unknown paths too.
    for (const text of ['{', 'null', '[]', '"x"', '\u0000', '{"metadata": 5}', '{"metadata": {"name": 7}}']) {
      const res = await raw('POST', pathOf('', 'configmaps', true), text);
      expect([400, 422]).toContain(res.status);
      expect(res.json.kind).toBe('Status');
    }
    for (const p of ['/apis/nope/v1/things', '/api/v2', '/api/v1/namespaces/robust/widgets', '/apis/apps/v1/deployments/x', '/api/v1/namespaces/robust/pods/a/exec/x']) {
      const res = await raw('GET', p);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    }
    expect((await raw('PATCH', pathOf('', 'configmaps', true, 'a'), '{}', 'application/x-unknown')).status).toBe(415);
    expect((await raw('POST', pathOf('', 'configmaps', true), 'x'.repeat(4 * 1024 * 1024))).status).toBe(413);
    expect((await core.listNamespace()).items.length).toBeGreaterThan(0);
  }, 120_000);

  it('creating one name concurrently succeeds exactly once', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 40 }, () =>
        core.createNamespacedConfigMap({ namespace: 'robust', body: { metadata: { name: 'race' } } }).then(
          () => 201,
          (e: ApiException<string>) => e.code,
        ),
      ),
    );
    expect(attempts.filter((c) => c === 201)).toHaveLength(1);
    expect(attempts.filter((c) => c === 409)).toHaveLength(39);
  });
});

describe('less common verbs', () => {
  it('lists with field selectors and pages with limit/continue', async () => {
    for (const n of ['p1', 'p2', 'p3']) await core.createNamespacedConfigMap({ namespace: 'robust', body: { metadata: { name: n, labels: { page: 'yes' } } } });
    const byName = await core.listNamespacedConfigMap({ namespace: 'robust', fieldSelector: 'metadata.name=p2' });
    expect(byName.items.map((i) => i.metadata?.name)).toEqual(['p2']);
    const first = await core.listNamespacedConfigMap({ namespace: 'robust', labelSelector: 'page=yes', limit: 2 });
    expect(first.items.map((i) => i.metadata?.name)).toEqual(['p1', 'p2']);
    expect(first.metadata?.remainingItemCount).toBe(1);
    const second = await core.listNamespacedConfigMap({ namespace: 'robust', labelSelector: 'page=yes', limit: 2, _continue: first.metadata?._continue });
    expect(second.items.map((i) => i.metadata?.name)).toEqual(['p3']);
    expect(second.metadata?._continue).toBeUndefined();
  });

  it('deletes a collection by label selector', async () => {
    await core.deleteCollectionNamespacedConfigMap({ namespace: 'robust', labelSelector: 'page=yes', gracePeriodSeconds: 0 });
    expect((await core.listNamespacedConfigMap({ namespace: 'robust', labelSelector: 'page=yes' })).items).toEqual([]);
  });

  it('keeps an object with finalizers until they are removed', async () => {
    await core.createNamespacedConfigMap({ namespace: 'robust', body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    await core.deleteNamespacedConfigMap({ name: 'held', namespace: 'robust', gracePeriodSeconds: 0 });
    await new Promise((r) => setTimeout(r, 60));
    const held = await core.readNamespacedConfigMap({ name: 'held', namespace: 'robust' });
    expect(held.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    await core.replaceNamespacedConfigMap({ name: 'held', namespace: 'robust', body: { ...held, metadata: { ...held.metadata, finalizers: [] } } });
    await expect(core.readNamespacedConfigMap({ name: 'held', namespace: 'robust' })).rejects.toMatchObject({ code: 404 });
  });

  it('refuses to delete the default namespace', async () => {
    await expect(core.deleteNamespace({ name: 'default' })).rejects.toMatchObject({ code: 403 });
  });

  it('streams watch events to client-node Watch', async () => {
    const events: Array<[string, string | undefined]> = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      '/api/v1/namespaces/robust/configmaps',
      { labelSelector: 'watched=yes' },
      (type, obj) => events.push([type, obj?.metadata?.name]),
      () => undefined,
    );
    try {
      await core.createNamespacedConfigMap({ namespace: 'robust', body: { metadata: { name: 'w1', labels: { watched: 'yes' } } } });
      await core.createNamespacedConfigMap({ namespace: 'robust', body: { metadata: { name: 'other' } } });
      await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'robust', gracePeriodSeconds: 0 });
      await waitFor(async () => events, (e) => e.some(([t]) => t === 'DELETED'), 10_000, 20);
      expect(events).toEqual([
        ['ADDED', 'w1'],
        ['DELETED', 'w1'],
      ]);
    } finally {
      controller.abort();
    }
  }, 10_000);

  it('writes only status through the /status subresource', async () => {
    await core.createNamespacedService({ namespace: 'robust', body: { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } } });
    const svc = await core.readNamespacedService({ name: 'lb', namespace: 'robust' });
    const updated = await core.replaceNamespacedServiceStatus({
      name: 'lb',
      namespace: 'robust',
      body: { ...svc, spec: { ...svc.spec, ports: [{ port: 81 }] }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } },
    });
    expect(updated.status?.loadBalancer?.ingress?.[0].ip).toBe('203.0.113.7');
    expect(updated.spec?.ports?.[0].port).toBe(80);
  });
});
