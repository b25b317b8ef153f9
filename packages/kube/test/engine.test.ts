/**
 * The apply/readiness/teardown engine through the real client-node over HTTP against the
 * testkit's fake Kubernetes API server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '@ccg/config';
import { startFakeKube, type FakeKube } from '@ccg/testkit';
import {
  FIELD_MANAGER,
  NotReadyError,
  applyObject,
  kubeClient,
  objectsForStep,
  parseKubeconfig,
  refOf,
  resolveInfraSettings,
  teardown,
  waitForReady,
} from '@ccg/kube';

let fake: FakeKube;
beforeAll(async () => {
  fake = await startFakeKube({ readyDelayMs: 150, deleteDelayMs: 50 });
});
afterAll(async () => {
  await fake.close();
});

const settings = () => resolveInfraSettings(loadConfig({}).infra, { id: 'engine-1', config: { publicHostname: 'h.example' } });
const api = (signal?: AbortSignal) => kubeClient(parseKubeconfig(fake.kubeconfigYaml(), { allowExec: false }), { requestTimeoutMs: 5_000, signal });
const wait = { timeoutMs: 5_000, pollInitialMs: 20, pollMaxMs: 200 };

describe('engine against the fake API server', () => {
  it('applies with server-side apply under one field manager, reports creation once, and waits for rollout', async () => {
    const s = settings();
    const objects = objectsForStep('metrics-db', s);
    const first = await Promise.all([]).then(async () => {
      const out = [];
      for (const o of objects) out.push(await applyObject(api(), o));
      return out;
    });
    expect(first.map((r) => r.created)).toEqual([true, true, true]);
    for (const o of objects) await waitForReady(api(), o, wait);
    const deployment = fake.get('Deployment', 'metrics', 'cluster-metrics') as any;
    expect(deployment.status.availableReplicas).toBe(1);
    const again = [];
    for (const o of objects) again.push(await applyObject(api(), o));
    expect(again.map((r) => r.created)).toEqual([false, false, false]);
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBe(6);
    expect(new Set(patches.map((p) => `${p.contentType} ${p.fieldManager} ${p.query.force}`))).toEqual(new Set([`application/apply-patch+yaml ${FIELD_MANAGER} true`]));
  });

  it('a workload whose image never pulls times out naming the object and the pod reason', async () => {
    const s = settings();
    const [collector] = objectsForStep('metrics-collector', s);
    fake.failImage(s.images.metricsCollector, 'ImagePullBackOff', 'Back-off pulling image');
    await applyObject(api(), collector);
    const err = await waitForReady(api(), collector, { ...wait, timeoutMs: 1_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(NotReadyError);
    expect(err.message).toContain('DaemonSet metrics/metrics-collector');
    expect(err.podReason).toMatch(/ImagePullBackOff/);
    fake.clearFailures();
  });

  it('cancel aborts a wait at once', async () => {
    const s = settings();
    const [writer] = objectsForStep('metrics-services', s);
    fake.setReadyDelay(60_000);
    await applyObject(api(), writer);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancelled by test')), 100);
    await expect(waitForReady(api(controller.signal), writer, { ...wait, timeoutMs: 30_000, signal: controller.signal })).rejects.toThrow('cancelled by test');
    expect(Date.now() - started).toBeLessThan(2_000);
    fake.setReadyDelay(150);
  });

  it('teardown deletes in order, waits until gone, counts 404 as removed and leaves foreign namespaces', async () => {
    const s = settings();
    const refs = [...objectsForStep('metrics-db', s), ...objectsForStep('metrics-services', s), ...objectsForStep('metrics-collector', s)].map(refOf).reverse();
    const report = await teardown(api(), refs, { deleteTimeoutMs: 2_000, pollInitialMs: 20, pollMaxMs: 200 });
    expect(report.residue).toEqual([]);
    expect(report.removed).toContain('Namespace metrics');
    expect(fake.objects({ namespace: 'metrics', kind: 'Deployment' })).toEqual([]);
    const again = await teardown(api(), refs, { deleteTimeoutMs: 2_000, pollInitialMs: 20, pollMaxMs: 200 });
    expect(again.removed).toEqual([]);
    expect(again.absent.length).toBe(refs.length);
    const foreign = await teardown(api(), [{ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' }], { deleteTimeoutMs: 500, pollInitialMs: 20, pollMaxMs: 100 });
    expect(foreign.absent).toEqual(['Namespace kube-system']);
    expect(fake.get('Namespace', undefined, 'kube-system')).toBeDefined();
    const deletes = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes.findIndex((p) => p.endsWith('/metrics-writer-svc'))).toBeLessThan(deletes.findIndex((p) => p.endsWith('/namespaces/metrics')));
  });
});
