import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '@ccg/testkit';

/**
 * 100 concurrent PATCHes of one cluster field through dotted paths, half of them guarded by
 * If-Match with the version they all read first (stale as soon as one write lands). Each one is
 * applied (200) or refused (409/412); every applied write got its own version; none is lost.
 */
describe('100 concurrent conflicting updates of one cluster field', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
  });
  afterAll(() => gw.close());

  it('each is applied or refused with 409/412, and the final version is 1 + the number applied', async () => {
    const created = await gw.request('POST', '/clusters/create', { id: 'contended', clusterMetadata: { name: 'start' }, tags: [] });
    expect(created.status).toBe(200);
    const v0 = created.body.data.version as number;

    const writes = Array.from({ length: 100 }, (_, i) => ({
      i,
      guarded: i % 2 === 0,
      body: { 'clusterMetadata.name': `writer-${i}`, 'clusterMetadata.additionalInfo.lastWriter': i },
    }));
    const results = await Promise.all(
      writes.map(async (w) => {
        const res = await gw.request('PATCH', '/clusters/update/contended', w.body, w.guarded ? { 'If-Match': `"${v0}"` } : {});
        return { ...w, status: res.status, version: res.body?.data?.version as number | undefined, code: res.body?.error?.code as string | undefined };
      }),
    );

    for (const r of results) {
      expect([200, 409, 412]).toContain(r.status);
      if (r.status === 412) expect(r.code).toBe('STALE_VERSION');
    }
    const applied = results.filter((r) => r.status === 200);
    // Unguarded writes serialise on the row; at most one guarded write can match v0.
    expect(applied.filter((r) => !r.guarded).length).toBe(50);
    expect(applied.filter((r) => r.guarded).length).toBeLessThanOrEqual(1);

    // Every applied write got its own version, v0+1 ... v0+applied: none overwrote another unseen.
    const versions = applied.map((r) => r.version!).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: applied.length }, (_, k) => v0 + 1 + k));

    const final = await gw.request('GET', '/clusters/read/contended');
    expect(final.body.data.version).toBe(v0 + applied.length);
    // The stored field is the last applied write's, in both dotted paths it set.
    const last = applied.find((r) => r.version === v0 + applied.length)!;
    expect(final.body.data.clusterMetadata).toMatchObject({ name: `writer-${last.i}`, additionalInfo: { lastWriter: last.i } });
  }, 60_000);
});
