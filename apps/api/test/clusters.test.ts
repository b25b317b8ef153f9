import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sampleCluster, startTestGateway, type TestGateway } from '@ccg/testkit';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ worker: false });
});
afterAll(async () => {
  await gw.close();
});

describe('POST /clusters/create', () => {
  it('stores the spec sample entry, keeps unknown fields, and answers 200 with the entry and an ETag', async () => {
    const body = { ...sampleCluster('create-ok'), customField: { nested: [1, 2] } };
    const res = await gw.request('POST', '/clusters/create', body);
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.data).toMatchObject({ id: 'create-ok', regionId: 'us-west-2', status: 'live', customField: { nested: [1, 2] }, version: 1 });
    expect(res.headers.get('etag')).toBe('"1"');
    const read = await gw.request('GET', '/clusters/read/create-ok');
    expect(read.body.data.clusterMetadata.vendor).toBe('dma-bangalore');
    expect(read.body.data.customField).toEqual({ nested: [1, 2] });
  });

  it('409 when the id already exists', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('dup'));
    const res = await gw.request('POST', '/clusters/create', sampleCluster('dup'));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ success: false, error: { code: 'CONFLICT' } });
    expect(res.body.message).toContain('dup');
  });

  it.each([
    ['missing id', (c: any) => delete c.id, 'id'],
    ['id not a string', (c: any) => (c.id = 42), 'id'],
    ['nodes.count not an integer', (c: any) => (c.nodes.count = 'two'), 'nodes.count'],
    ['node entry without id', (c: any) => delete c.nodes.nodeData[1].id, 'nodes.nodeData.1.id'],
    ['GPU list entry memory a string', (c: any) => (c.nodes.nodeData[0].gpus.gpus[1].memory = 'lots'), 'nodes.nodeData.0.gpus.gpus.1.memory'],
    ['gpus.count negative', (c: any) => (c.gpus.count = -1), 'gpus.count'],
    ['tags not strings', (c: any) => (c.tags = ['ok', 3]), 'tags.1'],
    ['config.useGateway not boolean', (c: any) => (c.config.useGateway = 'yes'), 'config.useGateway'],
    ['reputation not a number', (c: any) => (c.reputation = 'high'), 'reputation'],
    ['id with a space', (c: any) => (c.id = 'bad id'), 'id'],
  ])('400 naming the field: %s', async (_name, mutate, field) => {
    const body = sampleCluster(`bad-${Math.random().toString(36).slice(2, 8)}`);
    mutate(body);
    const res = await gw.request('POST', '/clusters/create', body);
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe('INVALID_INPUT');
    expect(res.body.error.details.field).toBe(field);
    expect(res.body.message).toContain(field);
  });

  it('400 for duplicate node ids within the entry', async () => {
    const body = sampleCluster('dup-nodes');
    (body as any).nodes.nodeData[1].id = 'node-1';
    const res = await gw.request('POST', '/clusters/create', body);
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe('nodes.nodeData.1.id');
  });

  it('400 for a body that is not JSON, 415 for another content type', async () => {
    const bad = await gw.request('POST', '/clusters/create', '{"id": "x",}');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_JSON');
    const text = await gw.request('POST', '/clusters/create', 'id=x', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const arr = await gw.request('POST', '/clusters/create', [1, 2]);
    expect(arr.status).toBe(400);
  });

  it('ignores the fields the gateway manages (version, timestamps)', async () => {
    const res = await gw.request('POST', '/clusters/create', { ...sampleCluster('managed'), version: 99, created_at: 'yesterday' });
    expect(res.status).toBe(200);
    expect(res.body.data.version).toBe(1);
    expect(res.body.data.created_at).not.toBe('yesterday');
  });
});

describe('GET /clusters/read/:id and GET /clusters', () => {
  it('reads exactly the entry that create, update and list return (managed fields and timestamps alike)', async () => {
    const body = { ...sampleCluster('read-same'), unicode: 'nœud – ✓ \u2028', deep: { a: [{ b: null, c: 1.5e-7 }] } };
    const created = await gw.request('POST', '/clusters/create', body);
    const read = await gw.request('GET', '/clusters/read/read-same');
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toEqual({ success: true, data: created.body.data });
    const updated = await gw.request('PATCH', '/clusters/update/read-same', { 'clusterMetadata.creator': 'someone' });
    const again = await gw.request('GET', '/clusters/read/read-same');
    expect(again.headers.get('etag')).toBe('"2"');
    expect(again.body.data).toEqual(updated.body.data);
  });

  it('answers a conditional read with 304 while the ETag is current, 200 with the entry once it changed', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('read-cond'));
    // fetch adds `Cache-Control: no-cache` to conditional requests (which asks for a full answer) unless one is given.
    const conditional = { 'If-None-Match': '"1"', 'Cache-Control': 'max-age=0' };
    const first = await gw.request('GET', '/clusters/read/read-cond', undefined, conditional);
    expect(first.status).toBe(304);
    expect(first.text).toBe('');
    await gw.request('PATCH', '/clusters/update/read-cond', { status: 'offline' });
    const changed = await gw.request('GET', '/clusters/read/read-cond', undefined, conditional);
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe('"2"');
    expect(changed.body.data.status).toBe('offline');
    const head = await gw.request('HEAD', '/clusters/read/read-cond');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(changed.text));
  });

  it('404 for an unknown cluster', async () => {
    const res = await gw.request('GET', '/clusters/read/nope');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    expect(res.body.message).toContain('nope');
  });

  it('lists with limit and cursor until the end', async () => {
    const g = await startTestGateway({ worker: false });
    try {
      for (let i = 0; i < 7; i++) expect((await g.request('POST', '/clusters/create', sampleCluster(`list-${i}`))).status).toBe(200);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: any = await g.request('GET', `/clusters?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.data.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.data.items.map((c: any) => c.id));
        cursor = res.body.data.next_cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `list-${i}`));
    } finally {
      await g.close();
    }
  });

  it('400 naming the bad list parameter', async () => {
    for (const [q, field] of [['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=abc', 'limit'], ['cursor=%%%garbage', 'cursor'], ['cursor=bm90LWpzb24', 'cursor']]) {
      const res = await gw.request('GET', `/clusters?${q}`);
      expect(res.status).toBe(400);
      expect(res.body.error.details.field).toBe(field);
    }
  });
});

describe('PATCH/PUT /clusters/update/:id', () => {
  it('applies dotted paths as in the spec example (PATCH) and bumps the version', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('upd'));
    const res = await gw.request('PATCH', '/clusters/update/upd', {
      'clusterMetadata.creator': 'prasanna@opevision.ai',
      regionId: 'us-west-2',
      tags: ['ai-cluster', 'llm', 'datacenter-grade-1'],
    });
    expect(res.status).toBe(200);
    expect(res.body.data.clusterMetadata).toMatchObject({ creator: 'prasanna@opevision.ai', vendor: 'dma-bangalore' });
    expect(res.body.data.tags).toEqual(['ai-cluster', 'llm', 'datacenter-grade-1']);
    expect(res.body.data.version).toBe(2);
    expect(res.headers.get('etag')).toBe('"2"');
  });

  it('PUT does the same, creates missing intermediate objects and indexes arrays', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('upd-put'));
    const res = await gw.request('PUT', '/clusters/update/upd-put', {
      'config.urlMap.controllerService': 'http://ctl:4000',
      'nodes.nodeData.1.memory': 1024,
    });
    expect(res.status).toBe(200);
    expect(res.body.data.config.urlMap).toEqual({ controllerService: 'http://ctl:4000' });
    expect(res.body.data.nodes.nodeData[1].memory).toBe(1024);
    expect(res.body.data.nodes.nodeData[0].memory).toBe(131072);
  });

  it('the spec example as written (trailing comma) is a clear 400', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('cluster-trailing'));
    const raw = `{
           "clusterMetadata.creator": "prasanna@opevision.ai",
           "regionId": "us-west-2",
           "tags": ["ai-cluster", "llm", "datacenter-grade-1", ]
        }`;
    const res = await gw.request('PATCH', '/clusters/update/cluster-trailing', raw);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/not valid JSON/);
  });

  it.each([
    ['changing id', { id: 'other' }, 'id'],
    ['a result that breaks the schema', { 'gpus.count': 'many' }, 'gpus.count'],
    ['setting inside a scalar', { 'regionId.sub': 1 }, 'regionId.sub'],
    ['a prototype-polluting path', { '__proto__.polluted': 1 }, '__proto__.polluted'],
    ['overlapping paths', { config: {}, 'config.useGateway': true }, 'config.useGateway'],
    ['an empty segment', { 'config..x': 1 }, 'config..x'],
    ['a managed field', { version: 7 }, 'version'],
  ])('400 for %s', async (_n, body, field) => {
    await gw.request('POST', '/clusters/create', sampleCluster('upd-bad'));
    const res = await gw.request('PATCH', '/clusters/update/upd-bad', body);
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe(field);
    expect(({} as any).polluted).toBeUndefined();
    const read = await gw.request('GET', '/clusters/read/upd-bad');
    expect(read.body.data.version).toBe(1);
  });

  it('400 for an empty update body', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('upd-empty'));
    expect((await gw.request('PATCH', '/clusters/update/upd-empty', {})).status).toBe(400);
  });

  it('setting id to its own value is allowed', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('upd-same-id'));
    const res = await gw.request('PATCH', '/clusters/update/upd-same-id', { id: 'upd-same-id', reputation: 50 });
    expect(res.status).toBe(200);
    expect(res.body.data.reputation).toBe(50);
  });

  it('404 for an unknown cluster', async () => {
    const res = await gw.request('PATCH', '/clusters/update/missing', { regionId: 'x' });
    expect(res.status).toBe(404);
  });

  it('If-Match: current version applies, stale version gives 412 and changes nothing', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('upd-etag'));
    const ok = await gw.request('PATCH', '/clusters/update/upd-etag', { regionId: 'eu-1' }, { 'If-Match': '"1"' });
    expect(ok.status).toBe(200);
    const stale = await gw.request('PATCH', '/clusters/update/upd-etag', { regionId: 'eu-2' }, { 'If-Match': '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'STALE_VERSION', details: { expected_version: 1, current_version: 2 } });
    const read = await gw.request('GET', '/clusters/read/upd-etag');
    expect(read.body.data.regionId).toBe('eu-1');
    const bad = await gw.request('PATCH', '/clusters/update/upd-etag', { regionId: 'eu-3' }, { 'If-Match': 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('If-Match');
  });

  it('50 concurrent updates of different fields of one cluster lose none', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('upd-race'));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => gw.request('PATCH', '/clusters/update/upd-race', { [`clusterMetadata.additionalInfo.field${i}`]: i })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const read = await gw.request('GET', '/clusters/read/upd-race');
    const info = read.body.data.clusterMetadata.additionalInfo;
    for (let i = 0; i < 50; i++) expect(info[`field${i}`]).toBe(i);
    expect(read.body.data.version).toBe(51);
  });
});

describe('DELETE /clusters/delete/:id', () => {
  it('deletes, then 404 on read and on a second delete', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('del'));
    const res = await gw.request('DELETE', '/clusters/delete/del');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ message: 'Cluster deleted', id: 'del' });
    expect((await gw.request('GET', '/clusters/read/del')).status).toBe(404);
    expect((await gw.request('DELETE', '/clusters/delete/del')).status).toBe(404);
  });

  it('412 with a stale If-Match, and the entry stays', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('del-etag'));
    await gw.request('PATCH', '/clusters/update/del-etag', { regionId: 'x' });
    const res = await gw.request('DELETE', '/clusters/delete/del-etag', undefined, { 'If-Match': '"1"' });
    expect(res.status).toBe(412);
    expect((await gw.request('GET', '/clusters/read/del-etag')).status).toBe(200);
  });

  it('a re-created id starts again at version 1 (409 only while it exists)', async () => {
    await gw.request('POST', '/clusters/create', sampleCluster('recreate'));
    await gw.request('DELETE', '/clusters/delete/recreate');
    const again = await gw.request('POST', '/clusters/create', sampleCluster('recreate'));
    expect(again.status).toBe(200);
    expect(again.body.data.version).toBe(1);
  });
});

describe('unknown routes and bodies', () => {
  it('404 envelope for an unknown route', async () => {
    const res = await gw.request('GET', '/no/such/route');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
  });

  it('413 for a body over the limit', async () => {
    const huge = { ...sampleCluster('huge'), blob: 'x'.repeat(2 * 1024 * 1024) };
    const res = await gw.request('POST', '/clusters/create', huge);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('echoes a request id', async () => {
    const res = await gw.request('GET', '/healthz', undefined, { 'X-Request-Id': 'abc-123' });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });
});
