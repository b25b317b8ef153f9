import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sampleCluster, startFakeCluster, startTestGateway, type FakeCluster, type TestGateway } from '@ccg/testkit';

let gw: TestGateway;
let fake: FakeCluster;
const withFake = (id: string) => ({ ...sampleCluster(id), config: { ...(sampleCluster(id).config as object), urlMap: fake.urlMap } });

beforeAll(async () => {
  fake = await startFakeCluster();
  gw = await startTestGateway({ env: { METRICS_PULL_INTERVAL_MS: '0', CLUSTER_CLIENT_TIMEOUT_MS: '500' } });
});
afterAll(async () => {
  await gw.close();
  await fake.close();
});

describe('pulled metrics', () => {
  it('the pull pass stores each cluster with a metrics service, skips the rest, and backs off unreachable ones', async () => {
    await gw.request('POST', '/clusters/create', withFake('pull-ok'));
    await gw.request('POST', '/clusters/create', sampleCluster('pull-no-url'));
    await gw.request('POST', '/clusters/create', { ...sampleCluster('pull-down'), config: { urlMap: { metricsService: 'http://127.0.0.1:1' } } });
    const pass = await gw.worker!.metricsPuller.tick();
    expect(pass.pulled).toEqual(['pull-ok']);
    expect(pass.failed).toEqual(['pull-down']);
    expect(fake.receivedOn('/cluster').length).toBeGreaterThanOrEqual(1);
    const res = await gw.request('GET', '/cluster-metrics/pull-ok');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ cluster_id: 'pull-ok', source: 'pull', stale: false });
    expect(res.body.data.nodes.map((n: any) => n.id).sort()).toEqual(['node-1', 'node-2']);
    const node = await gw.request('GET', '/cluster-metrics/node/pull-ok/node-1');
    expect(node.status).toBe(200);
    // The unreachable cluster is not asked again until its backoff ends.
    const again = await gw.worker!.metricsPuller.tick();
    expect(again.skipped).toContain('pull-down');
    expect(again.failed).not.toContain('pull-down');
  });

  it('spec §2.1 on a cluster that never reported asks its metrics service; ?live=true always does', async () => {
    await gw.request('POST', '/clusters/create', withFake('pull-through'));
    fake.reset();
    const first = await gw.request('GET', '/cluster-metrics/pull-through');
    expect(first.status).toBe(200);
    expect(fake.receivedOn('/cluster')).toHaveLength(1);
    await gw.request('GET', '/cluster-metrics/pull-through');
    expect(fake.receivedOn('/cluster')).toHaveLength(1);
    const live = await gw.request('GET', '/cluster-metrics/pull-through?live=true');
    expect(live.body.data.source).toBe('live');
    expect(fake.receivedOn('/cluster')).toHaveLength(2);
  });

  it('a metrics service that hangs gives 504 on ?live=true', async () => {
    await gw.request('POST', '/clusters/create', withFake('pull-hang'));
    fake.hang('/cluster');
    const started = Date.now();
    const res = await gw.request('GET', '/cluster-metrics/pull-hang?live=true');
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(3000);
    fake.reset();
  });
});
