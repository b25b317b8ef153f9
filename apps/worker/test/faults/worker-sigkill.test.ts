import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { queueBackends, spawnWorker, startTestGateway, waitFor, type TestGateway } from '@ccg/testkit';

/**
 * Worker processes killed with SIGKILL at random points of diagnostic multi-step tasks, 20 times,
 * a fresh worker each time (which also picks up what the previous one dropped, and may itself be
 * killed doing so). Every task must end completed with each planned step recorded exactly once:
 * the interrupted step may run again, a completed one never.
 *
 * Short lock and stall timings make a dropped job available again within about a second.
 */
const KILLS = Number(process.env.FAULT_KILLS ?? 20);
const STEPS = 4;
const STEP_MS = 120;
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: the kill points are reproducible from the seed in the test name. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Task = any;
const TERMINAL = ['completed', 'failed', 'cancelled'];

// One backend: each kill costs a worker start-up (about 2 s of CPU). Redis when present (the
// split API/worker deployment, where workers are separate processes); task-lifecycle.test.ts
// kills a worker once on each backend.
const backend = queueBackends().includes('redis') ? 'redis' : 'postgres';

describe(`worker SIGKILL at random points on the ${backend} backend`, () => {
  let gw: TestGateway;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({
      backend,
      worker: false,
      env: { JOB_LOCK_DURATION_MS: '1000', JOB_STALLED_INTERVAL_MS: '500', JOB_MAX_STALLED_COUNT: '1000', JOB_BACKOFF_MS: '10' },
    });
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await gw.close();
  });

  const read = async (id: string): Promise<Task> => (await gw.request('GET', `/tasks/${id}`)).body.data;
  const spawn = () => {
    const w = spawnWorker(gw);
    workers.push(w);
    return w;
  };
  const kill = async (w: ChildProcess) => {
    if (w.exitCode !== null || w.signalCode !== null) return;
    const exited = new Promise((r) => w.once('exit', r));
    w.kill('SIGKILL');
    await exited;
  };

  it(`${KILLS} kills (seed ${SEED}): every task ends completed, each step recorded once, completed steps never re-run`, async () => {
    const random = prng(SEED);
    const ids: string[] = [];
    const killPoints: string[] = [];
    // The next worker starts while the current one runs (start-up takes a second or more): it
    // then picks up what the killed one dropped as well as the next task.
    const started = Date.now();
    let worker = spawn();
    for (let i = 0; i < KILLS; i++) {
      const res = await gw.request('POST', '/admin/diagnostics/tasks', { steps: STEPS, step_ms: STEP_MS });
      expect(res.status).toBe(200);
      const id = res.body.data.task_id as string;
      ids.push(id);
      // Kill during step k (at a random fraction of it), or at a random moment of start-up (k = 0).
      const k = Math.floor(random() * (STEPS + 1));
      const fraction = random();
      if (k === 0) {
        await new Promise((r) => setTimeout(r, fraction * 1_000));
      } else {
        await waitFor(() => read(id), (t) => TERMINAL.includes(t.task_status) || ['in_progress', 'completed'].includes(t.steps[k - 1].status), 120_000, 10);
      }
      const next = spawn();
      if (k !== 0) await new Promise((r) => setTimeout(r, fraction * STEP_MS));
      await kill(worker);
      if (process.env.FAULT_VERBOSE) process.stderr.write(`[sigkill] ${backend} kill ${i + 1} at ${k === 0 ? 'start' : `step-${k}`} after ${Date.now() - started} ms\n`);
      killPoints.push(k === 0 ? `start+${Math.round(fraction * 1000)}ms` : `step-${k}+${Math.round(fraction * 100)}%`);
      worker = next;
    }

    // The last one, never killed, finishes whatever is left.
    try {
      for (const id of ids) await waitFor(() => read(id), (t) => TERMINAL.includes(t.task_status), 120_000, 50);
    } finally {
      await kill(worker);
    }

    const interrupted = new Set<string>();
    for (const [i, id] of ids.entries()) {
      const t = await read(id);
      const where = `task ${i} (killed at ${killPoints[i]})`;
      expect({ where, status: t.task_status }).toEqual({ where, status: 'completed' });
      expect(t.steps.map((s: Task) => [s.name, s.status])).toEqual(Array.from({ length: STEPS }, (_, n) => [`step-${n + 1}`, 'completed']));
      // Each job attempt re-runs at most the one step it was in when its worker died.
      const reruns = t.steps.reduce((sum: number, s: Task) => sum + (s.attempts - 1), 0);
      expect({ where, reruns: reruns <= t.attempts - 1 }).toEqual({ where, reruns: true });
      if (t.attempts > 1) interrupted.add(id);
    }
    // The kills did interrupt running tasks (not only idle workers).
    expect(interrupted.size).toBeGreaterThanOrEqual(KILLS / 4);
  }, 900_000);
});
