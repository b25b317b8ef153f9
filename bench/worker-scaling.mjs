// Worker scaling: throughput of I/O-bound tasks (diagnostic tasks whose steps sleep step_ms) with
// one worker process against two, each a separate apps/worker/dist/main.js process as the
// testkit's spawnWorker starts them, on the Redis queue backend, with the per-worker concurrency
// fixed (WORKER_CONCURRENCY) so one worker is saturated by the batch.
// Each round queues BATCH tasks at once and waits for all of them; throughput = tasks / (last
// finished_at - first started_at), from the tasks' own timestamps, so neither submission nor a
// worker's start-up counts. Worker A runs throughout; worker B is started for the two-worker
// rounds and stopped after. Rounds alternate (1,2 then 2,1 ...).
// Target (issue 8): two-worker throughput ÷ one-worker >= 1.8 (median of the pairs).
import { exitWith, median, report, round, startApi } from './lib.mjs';

const PAIRS = Math.max(Number(process.env.BENCH_PAIRS ?? 3), 3);
const CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 4);
const STEP_MS = Number(process.env.BENCH_STEP_MS ?? 1000);
const STEPS = 2;
/** Enough for several waves per worker, so a wave's ragged edge weighs little. */
const BATCH = Number(process.env.BENCH_BATCH ?? CONCURRENCY * 2 * 6);
const TARGET = 1.8;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const api = await startApi({ backend: 'redis', env: { WORKER_CONCURRENCY: String(CONCURRENCY) } });

/** Queues BATCH tasks (10 requests in flight), waits until all are terminal; tasks per second over their processing span. */
async function round1(label) {
  const ids = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < BATCH) {
        next++;
        ids.push((await api.call('POST', '/admin/diagnostics/tasks', { steps: STEPS, step_ms: STEP_MS })).data.task_id);
      }
    }),
  );
  // Waits on one task at a time (the next unfinished one), so polling adds next to no load.
  const done = [];
  const deadline = Date.now() + 600_000;
  for (const id of ids) {
    for (;;) {
      const { data: t } = await api.call('GET', `/tasks/${id}`);
      if (TERMINAL.has(t.task_status)) {
        if (t.task_status !== 'completed') throw new Error(`task ${id} ended ${t.task_status}`);
        done.push(t);
        break;
      }
      if (Date.now() > deadline) throw new Error(`${label}: tasks unfinished after 10 minutes`);
      await sleep(250);
    }
  }
  const start = Math.min(...done.map((t) => Date.parse(t.started_at)));
  const end = Math.max(...done.map((t) => Date.parse(t.finished_at)));
  return { tps: (BATCH * 1000) / (end - start), span_s: (end - start) / 1000 };
}

try {
  await api.startWorker(); // worker A, throughout
  await round1('warm-up');
  const rows = [];
  for (let p = 0; p < PAIRS; p++) {
    const r = {};
    for (const workers of p % 2 === 0 ? [1, 2] : [2, 1]) {
      if (workers === 1) {
        r.one = await round1('one worker');
      } else {
        const b = await api.startWorker();
        try {
          r.two = await round1('two workers');
        } finally {
          await b.stop();
        }
      }
    }
    rows.push({ pair: p + 1, one_worker_tps: round(r.one.tps, 2), two_workers_tps: round(r.two.tps, 2), ratio: round(r.two.tps / r.one.tps), one_span_s: round(r.one.span_s, 2), two_span_s: round(r.two.span_s, 2) });
  }
  console.table(rows);
  const ratio = median(rows.map((r) => r.ratio));
  const pass = ratio >= TARGET;
  const ideal = round((CONCURRENCY * 1000) / (STEPS * STEP_MS), 1);
  console.log(`worker-scaling: ${BATCH} diagnostic tasks per round (${STEPS} steps of ${STEP_MS} ms), WORKER_CONCURRENCY ${CONCURRENCY} (one worker at most ${ideal} tasks/s), ${PAIRS} pairs; throughput two workers / one median ${ratio} (target >= ${TARGET}): ${pass ? 'PASS' : 'FAIL'}`);
  report('worker-scaling', 'throughput ratio 2 workers/1', ratio, `>= ${TARGET}`, pass);
  report('worker-scaling', '1 worker tasks/s (median)', round(median(rows.map((r) => r.one_worker_tps)), 2));
  report('worker-scaling', '2 workers tasks/s (median)', round(median(rows.map((r) => r.two_workers_tps)), 2));
  exitWith([pass]);
} finally {
  await api.stop();
}
