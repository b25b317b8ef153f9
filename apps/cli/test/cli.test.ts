import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlockRepository } from '@ccg/db';
import { runCcg } from './lib/run-ccg.js';
import { createClusterAt, sampleCluster, startFakeCluster, startTestGateway, type TestGateway } from '@ccg/testkit';

describe('ccg against a running gateway', () => {
  let gw: TestGateway;
  let dir: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    dir = await mkdtemp(path.join(tmpdir(), 'ccg-cli-'));
  });
  afterAll(async () => {
    await gw.close();
  });

  it('creates, reads, updates with dotted paths, lists and deletes a cluster', async () => {
    const file = path.join(dir, 'cluster.json');
    await writeFile(file, JSON.stringify(sampleCluster('cli-1')));
    const created = await runCcg(gw, ['clusters', 'create', file]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/cluster cli-1 created \(version 1\)/);

    const updated = await runCcg(gw, ['clusters', 'update', 'cli-1', 'clusterMetadata.creator="ops team"', 'tags=["gpu","a100"]']);
    expect(updated.code).toBe(0);
    const read = await runCcg(gw, ['--json', 'clusters', 'read', 'cli-1']);
    expect(read.code).toBe(0);
    const doc = JSON.parse(read.stdout);
    expect(doc.clusterMetadata.creator).toBe('ops team');
    expect(doc.tags).toEqual(['gpu', 'a100']);
    expect(doc.version).toBe(2);

    const list = await runCcg(gw, ['clusters', 'list']);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+NAME/);
    expect(list.stdout).toMatch(/cli-1/);

    const stale = await runCcg(gw, ['clusters', 'update', 'cli-1', '--if-match', '1', 'tags=[]']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/HTTP 412/);

    expect((await runCcg(gw, ['clusters', 'delete', 'cli-1'])).code).toBe(0);
    const gone = await runCcg(gw, ['clusters', 'read', 'cli-1']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/HTTP 404/);
  });

  it('reports a refused body with the field, and usage mistakes with exit code 2', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ ...sampleCluster('cli-bad'), id: 42 }));
    const bad = await runCcg(gw, ['clusters', 'create', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/HTTP 400 .*field id/);
    const json = await runCcg(gw, ['--json', 'clusters', 'create', file]);
    expect(JSON.parse(json.stdout)).toMatchObject({ success: false, error: { details: { field: 'id' } } });

    expect((await runCcg(gw, ['clusters', 'frobnicate'])).code).toBe(2);
    const missing = await runCcg(gw, ['clusters', 'create', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read cluster file .*ENOENT/);
  });

  it('watch shows every step of a task as it completes and exits 0', async () => {
    const submit = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 3, step_ms: 200 });
    const id = submit.body.data.task_id;
    const run = await runCcg(gw, ['tasks', 'watch', id]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    for (const step of ['step-1', 'step-2', 'step-3']) expect(lines.some((l) => l.includes(step) && /\d+\.\d s/.test(l))).toBe(true);
    expect(run.stdout).toMatch(new RegExp(`task ${id} completed`));
  });

  it('watch of a failing task exits 1 naming the step and the error', async () => {
    const submit = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 3, step_ms: 50, fail_at_step: 2, fail_message: 'disk on fire' });
    const run = await runCcg(gw, ['tasks', 'watch', submit.body.data.task_id]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failed at step step-2: disk on fire/);
  });

  it('falls back to polling when the event stream is not available', async () => {
    // A gateway URL whose event route 404s: a tiny proxy that refuses /events and forwards the rest.
    const { createServer } = await import('node:http');
    const proxy = createServer(async (req, res) => {
      if (req.url?.endsWith('/events')) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"success":false,"error":{"message":"no"}}');
        return;
      }
      const upstream = await fetch(`${gw.url}${req.url}`, { headers: req.headers as Record<string, string> });
      res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/json' }).end(await upstream.text());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const submit = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 2, step_ms: 100 });
      const port = (proxy.address() as { port: number }).port;
      const run = await runCcg(gw, ['--json', 'tasks', 'watch', submit.body.data.task_id], { CCG_URL: `http://127.0.0.1:${port}` });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ task_status: 'completed', progress: { completed_steps: 2, total_steps: 2 } });
    } finally {
      proxy.close();
    }
  });
  it('blocks scale sends the spec §3 body to the cluster\'s controller', async () => {
    const fake = await startFakeCluster();
    try {
      await createClusterAt(gw, 'cli-scale', fake.urlMap);
      await new BlockRepository(gw.db.db).insert({ id: 'block-787sj', doc: { id: 'block-787sj' }, cluster_id: 'cli-scale', status: 'running' });
      const run = await runCcg(gw, ['blocks', 'scale', 'cli-scale', 'block-787sj', '--instances', '2', '--on', 'node-1:0,2', 'node-2:1']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const sent = fake.received.filter((r) => r.method === 'POST' && JSON.stringify(r.body ?? {}).includes('block-787sj'));
      expect(sent.length).toBe(1);
      expect(JSON.stringify(sent[0].body)).toContain('"instances_count":2');
      expect(JSON.stringify(sent[0].body)).toContain('"allocation_data":[{"node_id":"node-1","gpu_ids":[0,2]},{"node_id":"node-2","gpu_ids":[1]}]');
      expect((await runCcg(gw, ['blocks', 'scale', 'cli-scale', 'b', '--instances', 'two'])).code).toBe(2);
    } finally {
      await fake.close();
    }
  });
});
