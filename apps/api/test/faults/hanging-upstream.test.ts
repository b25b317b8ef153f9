import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClusterAt, startFakeCluster, startTestGateway, waitFor, type FakeCluster, type TestGateway } from '@ccg/testkit';

/**
 * A cluster service that accepts the connection and never answers. The proxied call gets a 504
 * within the upstream timeout (CLUSTER_CLIENT_TIMEOUT_MS; POSTs are never retried), and the
 * gateway keeps serving other requests at normal latency meanwhile. A functional check with
 * generous bounds, not a benchmark.
 */
const TIMEOUT_MS = 1_500;
const HUNG_CALLS = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('a cluster service that never answers', () => {
  let gw: TestGateway;
  let fake: FakeCluster;
  beforeAll(async () => {
    fake = await startFakeCluster();
    gw = await startTestGateway({ worker: false, env: { CLUSTER_CLIENT_TIMEOUT_MS: String(TIMEOUT_MS) } });
    await createClusterAt(gw, 'hangs', fake.urlMap);
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
  });

  /** One timed request: /healthz and a cluster read (a database round trip) in turn. */
  const timeOne = async (i: number): Promise<number> => {
    const started = performance.now();
    const res = await gw.request('GET', i % 2 ? '/healthz' : '/clusters/read/hangs');
    expect(res.status).toBe(200);
    return performance.now() - started;
  };
  const latencies = async (n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await timeOne(i));
    return out;
  };

  it('answers 504 within the timeout and serves other requests at normal latency meanwhile', async () => {
    const body = { cluster_id: 'hangs', service: 'stability_checker', action: 'status', payload: {} };
    // The call answers normally before the upstream hangs.
    expect((await gw.request('POST', '/cluster/mgmt', body)).status).toBe(200);
    await latencies(10); // warm-up
    const before = median(await latencies(40));

    fake.hang('/mgmt');
    let answered = 0;
    const hung = Array.from({ length: HUNG_CALLS }, async () => {
      const started = performance.now();
      const res = await gw.request('POST', '/cluster/mgmt', body);
      answered++;
      return { res, ms: performance.now() - started };
    });
    await waitFor(async () => fake.receivedOn('/mgmt').length, (n) => n === 1 + HUNG_CALLS, 5_000, 5);
    // Only samples taken while every hung call is still waiting on its upstream count.
    const samples: number[] = [];
    while (samples.length < 40) {
      const ms = await timeOne(samples.length);
      if (answered > 0) break;
      samples.push(ms);
    }
    const results = await Promise.all(hung);
    expect(samples.length).toBeGreaterThanOrEqual(10);
    const during = median(samples);

    for (const { res, ms } of results) {
      expect(res.status).toBe(504);
      expect(res.body.success).toBe(false);
      expect(res.body.error.code).toMatch(/TIMEOUT/);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(TIMEOUT_MS + 2_000);
    }
    expect(fake.receivedOn('/mgmt').length).toBe(1 + HUNG_CALLS);
    // Generous bounds: a stalled event loop or exhausted pool would show as seconds, not ms.
    expect(during).toBeLessThan(Math.max(10 * before, 20));
    expect(during).toBeLessThan(200);
  }, 60_000);
});
