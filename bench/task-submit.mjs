// Task submission: POST /admin/diagnostics/tasks on the gateway (the built API process on the
// Redis queue backend, default log level, admin token; no worker, so only submission is
// measured) against a bare Express handler doing one INSERT into a table + BullMQ Queue.add on
// the same Redis (bench/baseline-server.mjs), measured alternately with autocannon in one run.
// Target (issue 8): requests/s gateway ÷ baseline >= 0.5 (median of the pairs).
import { exitWith, load, median, report, round, startApi, startBaseline } from './lib.mjs';

const PAIRS = Math.max(Number(process.env.BENCH_PAIRS ?? 5), 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const TARGET = 0.5;
/** A one-step diagnostic task (the body both sides get). */
const BODY = { steps: 1, step_ms: 0 };

const api = await startApi({ backend: 'redis' });
let base;
try {
  base = await startBaseline('task-submit', { schema: api.schema });
  const run = (url, path, seconds = SECONDS) => load({ url: url + path, connections: CONNECTIONS, seconds, method: 'POST', body: BODY });
  const side = { gateway: () => run(api.url, '/admin/diagnostics/tasks'), baseline: () => run(base.url, '/tasks') };

  await run(api.url, '/admin/diagnostics/tasks', 2); // warm-up
  await run(base.url, '/tasks', 2);
  const rows = [];
  for (let p = 0; p < PAIRS; p++) {
    const order = p % 2 === 0 ? ['gateway', 'baseline'] : ['baseline', 'gateway'];
    const r = {};
    for (const s of order) r[s] = await side[s]();
    rows.push({ pair: p + 1, gateway_rps: round(r.gateway.rps, 0), baseline_rps: round(r.baseline.rps, 0), ratio: round(r.gateway.rps / r.baseline.rps), gateway_p50_ms: r.gateway.p50, baseline_p50_ms: r.baseline.p50, gateway_p99_ms: r.gateway.p99, baseline_p99_ms: r.baseline.p99 });
  }
  console.table(rows);
  const ratio = median(rows.map((r) => r.ratio));
  const pass = ratio >= TARGET;
  console.log(`task-submit: ${CONNECTIONS} connections, ${SECONDS} s per run, ${PAIRS} pairs; requests/s ratio gateway / bare INSERT+Queue.add median ${ratio} (target >= ${TARGET}): ${pass ? 'PASS' : 'FAIL'}`);
  report('task-submit', 'rps ratio gateway/baseline', ratio, `>= ${TARGET}`, pass);
  report('task-submit', 'gateway rps (median)', round(median(rows.map((r) => r.gateway_rps)), 0));
  report('task-submit', 'baseline rps (median)', round(median(rows.map((r) => r.baseline_rps)), 0));
  exitWith([pass]);
} finally {
  await base?.stop();
  await api.stop();
}
