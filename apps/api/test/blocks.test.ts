import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BlockRepository } from '@ccg/db';
import { startTestGateway, type TestGateway } from '@ccg/testkit';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ worker: false });
  const repo = new BlockRepository(gw.db.db);
  await repo.insert({ id: 'blk-a', doc: { id: 'blk-a', componentUri: 'model.object-detector:2.0.0-stable', minInstances: 1 }, cluster_id: 'c1', status: 'running' });
  await repo.insert({ id: 'blk-b', doc: { id: 'blk-b' }, cluster_id: 'c2', status: 'running' });
  await repo.insert({ id: 'blk-c', doc: { id: 'blk-c' }, cluster_id: 'c1', status: 'removed' });
});
afterAll(async () => {
  await gw.close();
});

describe('blocks registry', () => {
  it('GET /blocks/:id returns the block document with its cluster and status', async () => {
    const res = await gw.request('GET', '/blocks/blk-a');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: 'blk-a', componentUri: 'model.object-detector:2.0.0-stable', cluster_id: 'c1', status: 'running', version: 1 });
    expect(res.headers.get('etag')).toBe('"1"');
  });

  it('404 for an unknown block', async () => {
    const res = await gw.request('GET', '/blocks/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('GET /blocks filters by cluster and status and pages', async () => {
    const byCluster = await gw.request('GET', '/blocks?cluster_id=c1');
    expect(byCluster.body.data.items.map((b: any) => b.id)).toEqual(['blk-a', 'blk-c']);
    const running = await gw.request('GET', '/blocks?cluster_id=c1&status=running');
    expect(running.body.data.items.map((b: any) => b.id)).toEqual(['blk-a']);
    const page1 = await gw.request('GET', '/blocks?limit=2');
    expect(page1.body.data.items).toHaveLength(2);
    const page2 = await gw.request('GET', `/blocks?limit=2&cursor=${page1.body.data.next_cursor}`);
    expect(page2.body.data.items.map((b: any) => b.id)).toEqual(['blk-c']);
    expect(page2.body.data.next_cursor).toBeNull();
  });

  it('400 naming an unknown or malformed query parameter', async () => {
    const unknown = await gw.request('GET', '/blocks?colour=red');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('colour');
    const repeated = await gw.request('GET', '/blocks?status=a&status=b');
    expect(repeated.status).toBe(400);
    expect(repeated.body.error.details.field).toBe('status');
  });

  it('a second block with the same id is refused by the repository (409)', async () => {
    await expect(new BlockRepository(gw.db.db).insert({ id: 'blk-a', doc: {}, status: 'running' })).rejects.toMatchObject({ status: 409 });
  });
});

describe('deleting a cluster with allocated blocks', () => {
  it('is refused with 409 naming the blocks, unless ?force=true', async () => {
    await gw.request('POST', '/clusters/create', { id: 'c1' });
    const refused = await gw.request('DELETE', '/clusters/delete/c1');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'CLUSTER_HAS_BLOCKS', details: { cluster_blocks: ['blk-a'] } });
    expect((await gw.request('GET', '/clusters/read/c1')).status).toBe(200);
    expect((await gw.request('DELETE', '/clusters/delete/c1?force=maybe')).status).toBe(400);
    const forced = await gw.request('DELETE', '/clusters/delete/c1?force=true');
    expect(forced.status).toBe(200);
    expect((await gw.request('GET', '/clusters/read/c1')).status).toBe(404);
  });
});
