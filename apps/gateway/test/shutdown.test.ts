import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';

// Processes start, stop and restart here: generous limits for a loaded machine.
jest.setTimeout(180_000);
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '@ccg/db';
import { queueBackends, repoRoot, sampleCluster, spawnWorker, startFakeKube, startTestGateway, type FakeKube, type TestGateway } from '@ccg/testkit';

const terminal = (t: any) => ['completed', 'failed', 'cancelled'].includes(t.task_status);

async function waitFor(gw: TestGateway, id: string, done: (t: any) => boolean, timeoutMs = 60_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const t = (await gw.request('GET', `/tasks/${id}`)).body.data;
    if (done(t)) return t;
    if (Date.now() > until) throw new Error(`task ${id} not there in time: ${t.task_status} ${JSON.stringify(t.steps.map((s: any) => [s.name, s.status]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started })));
}

describe.each(queueBackends())('graceful shutdown of a worker process (SIGTERM) on the %s queue backend', (backend) => {
  let gw: TestGateway;
  beforeAll(async () => {
    // Default lock timings (30 s): a task that resumes quickly was handed back, not recovered as stalled.
    gw = await startTestGateway({ backend, worker: false });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('a task that finishes within the grace period completes before the worker exits', async () => {
    const worker = spawnWorker(gw, { WORKER_SHUTDOWN_GRACE_MS: '20000' });
    try {
      const submitted = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 2, step_ms: 800 });
      expect([submitted.status, submitted.body.error?.message]).toEqual([200, undefined]);
      const id = submitted.body.data.task_id;
      await waitFor(gw, id, (t) => t.steps[0].status === 'in_progress');
      const exit = exited(worker);
      worker.kill('SIGTERM');
      expect((await exit).code).toBe(0);
      const t = (await gw.request('GET', `/tasks/${id}`)).body.data;
      expect(t.task_status).toBe('completed');
    } finally {
      worker.kill('SIGKILL');
    }
  });

  it('after the grace period the running task goes back to the queue and another worker resumes it from the interrupted step', async () => {
    const first = spawnWorker(gw, { WORKER_SHUTDOWN_GRACE_MS: '300' });
    let second: ChildProcess | undefined;
    try {
      const id = (await gw.request('POST', '/admin/diagnostics/tasks', { steps: 3, step_ms: 1500 })).body.data.task_id;
      await waitFor(gw, id, (t) => t.steps[1].status === 'in_progress');
      const exit = exited(first);
      first.kill('SIGTERM');
      const { code, ms } = await exit;
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5000);
      // Not failed, not cancelled: still in progress, step-2 unrecorded (no failure, no cancel).
      const handedBack = (await gw.request('GET', `/tasks/${id}`)).body.data;
      expect(handedBack.task_status).toBe('in_progress');
      expect(handedBack.steps.map((s: any) => s.status)).toEqual(['completed', 'in_progress', 'pending']);
      // Handed back: the job waits in the queue (not active under a lock that must first expire).
      expect(await (await gw.queues.queue('default').getJob(id))!.getState()).toBe('waiting');
      second = spawnWorker(gw);
      const done = await waitFor(gw, id, terminal, 90_000);
      expect(done.task_status).toBe('completed');
      expect(done.steps.map((s: any) => [s.name, s.attempts])).toEqual([['step-1', 1], ['step-2', 2], ['step-3', 1]]);
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
    }
  });
});

describe('SIGTERM to the all-in-one gateway during an infra task', () => {
  let gw: TestGateway;
  let kube: FakeKube;
  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 1200, deleteDelayMs: 50 });
    const globals = Object.fromEntries(
      ['global_block_metrics_redis_host', 'global_cluster_metrics_redis_host', 'global_vdag_metrics_redis_host', 'policy_db_url', 'blocks_db_url', 'cluster_db_url', 'vdag_db_url', 'vdag_controller_db_url'].map((k) => [k, `http://${k.replace(/_/g, '-')}.example.net`]),
    );
    gw = await startTestGateway({ worker: false, env: { GLOBAL_SERVICES_MAP: JSON.stringify(globals), INFRA_POLL_INITIAL_MS: '50', INFRA_POLL_MAX_MS: '200' } });
    const c = sampleCluster('cluster-sigterm') as any;
    expect((await gw.request('POST', '/clusters/create', { ...c, config: { ...c.config, useGateway: false, publicHostname: 'gpu.example.net' } })).status).toBe(200);
  });
  afterAll(async () => {
    await gw.close();
    await kube.close();
  });

  it('the gateway stops cleanly (open event stream ended, exit 0) and the task completes after a restart, not lost', async () => {
    const port = await freePort();
    const start = () =>
      spawn(process.execPath, [path.join(repoRoot(), 'apps/gateway/dist/main.js')], {
        env: { PATH: process.env.PATH ?? '', ...gw.env, PORT: String(port), HOST: '127.0.0.1', WORKER_SHUTDOWN_GRACE_MS: '500', HTTP_DRAIN_MS: '3000' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    const base = `http://127.0.0.1:${port}`;
    const ready = async () => {
      for (let i = 0; i < 600; i++) {
        if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the gateway did not start');
    };
    let proc = start();
    try {
      await ready();
      const res = await fetch(`${base}/create-cluster-infra`, { method: 'POST', headers: { ...gw.authHeaders, 'Content-Type': 'application/json' }, body: JSON.stringify({ cluster_id: 'cluster-sigterm', kube_config_data: kube.kubeconfig() }) });
      expect(res.status).toBe(200);
      const id = (await res.json()).data.task_id;
      await waitFor(gw, id, (t) => t.steps[3].status === 'in_progress');
      // A client following the task: its stream must end with the shutdown, not hold it up.
      const stream = fetch(`${base}/tasks/${id}/events`, { headers: gw.authHeaders }).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 200));
      const exit = exited(proc);
      proc.kill('SIGTERM');
      const { code, ms } = await exit;
      expect(code).toBe(0);
      expect(ms).toBeLessThan(10_000);
      expect(await stream).toContain('event: task');
      const after = await fetch(`${base}/healthz`).then((r) => `HTTP ${r.status}`, (e: Error) => e.message);
      expect(after).toBe('fetch failed');
      expect((await gw.request('GET', `/tasks/${id}`)).body.data.task_status).toBe('in_progress');

      proc = start();
      await ready();
      const done = await waitFor(gw, id, terminal, 60_000);
      expect([done.task_status, done.task_status_data.error]).toEqual(['completed', undefined]);
      expect(done.steps.every((s: any) => s.status === 'completed')).toBe(true);
      expect(done.steps[3].attempts).toBe(2);
      expect(Object.keys((await gw.request('GET', '/clusters/read/cluster-sigterm')).body.data.config.urlMap)).toHaveLength(6);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
