// End-to-end latency of a one-step diagnostic task (step_ms 0): from sending
// POST /admin/diagnostics/tasks to the first GET /tasks/:id that shows it `completed`, on the
// Redis and on the Postgres queue backend. Each backend runs as users run it split: the built API
// process and one worker process (apps/worker/dist/main.js) on its own schema and queue prefix.
// Tasks run one at a time; the two stacks take turns in batches so a drift in the machine's load
// hits both alike. GET /tasks/:id is polled every BENCH_POLL_MS (default 5 ms), which bounds the
// resolution. No target (issue 8): p50 and p99 are printed for both.
import { median, percentile, report, round, startApi } from './lib.mjs';

const ROUNDS = Math.max(Number(process.env.BENCH_PAIRS ?? 5), 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 20);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 5);
const BODY = { steps: 1, step_ms: 0 };
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Submits one task and polls it until terminal; the elapsed ms. */
async function oneTask(api) {
  const t0 = process.hrtime.bigint();
  const { data } = await api.call('POST', '/admin/diagnostics/tasks', BODY);
  for (;;) {
    const { data: t } = await api.call('GET', `/tasks/${data.task_id}`);
    if (TERMINAL.has(t.task_status)) {
      if (t.task_status !== 'completed') throw new Error(`task ${data.task_id} ended ${t.task_status}`);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    }
    if (Number(process.hrtime.bigint() - t0) > 60e9) throw new Error(`task ${data.task_id} still ${t.task_status} after 60 s`);
    await sleep(POLL_MS);
  }
}

const stacks = {};
try {
  for (const backend of ['redis', 'postgres']) {
    const api = await startApi({ backend });
    stacks[backend] = { api, samples: [] };
    await api.startWorker();
    for (let i = 0; i < 5; i++) await oneTask(api); // warm-up
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const backend of r % 2 === 0 ? ['redis', 'postgres'] : ['postgres', 'redis']) {
      for (let i = 0; i < BATCH; i++) stacks[backend].samples.push(await oneTask(stacks[backend].api));
    }
  }
  const rows = Object.entries(stacks).map(([backend, { samples }]) => ({
    backend,
    tasks: samples.length,
    p50_ms: round(median(samples), 1),
    p99_ms: round(percentile(samples, 99), 1),
    min_ms: round(Math.min(...samples), 1),
    max_ms: round(Math.max(...samples), 1),
  }));
  console.table(rows);
  console.log(`task-latency: one-step diagnostic task, submit -> completed visible in GET /tasks/:id (polled every ${POLL_MS} ms), ${ROUNDS} alternating batches of ${BATCH} per backend: ${rows.map((r) => `${r.backend} p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`).join('; ')} (no target)`);
  for (const r of rows) {
    report('task-latency', `${r.backend} p50 ms`, r.p50_ms);
    report('task-latency', `${r.backend} p99 ms`, r.p99_ms);
  }
} finally {
  await Promise.all(Object.values(stacks).map((s) => s.api.stop()));
}
