// GET /clusters/read/:id on the gateway (the built API process, default log level, admin token)
// against a bare Express + pg handler reading the same row from the same table with the same
// pool size (bench/baseline-server.mjs), measured alternately with autocannon in one run.
// Target (issue 8): requests/s gateway ÷ baseline >= 0.8 (median of the pairs).
import { exitWith, load, median, report, round, startApi, startBaseline } from './lib.mjs';

const PAIRS = Math.max(Number(process.env.BENCH_PAIRS ?? 5), 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CLUSTERS = 50;
const TARGET = 0.8;

const api = await startApi();
let base;
try {
  base = await startBaseline('cluster-read', { schema: api.schema });
  const { sampleCluster } = await import('../packages/testkit/dist/fixtures.js');
  for (let i = 0; i < CLUSTERS; i++) await api.call('POST', '/clusters/create', sampleCluster(`bench-${i}`));
  let n = 0;
  // The same rotation of ids on both sides.
  const requests = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/clusters/read/bench-${n++ % CLUSTERS}` }) }];
  const run = (url, seconds = SECONDS) => load({ url, connections: CONNECTIONS, seconds, requests });

  await run(api.url, 2); // warm-up: JIT, pools, plan caches
  await run(base.url, 2);
  const rows = [];
  for (let p = 0; p < PAIRS; p++) {
    // Alternate which side goes first, so a drift in the machine's load favours neither.
    const first = p % 2 === 0 ? 'gateway' : 'baseline';
    const r = {};
    for (const side of first === 'gateway' ? ['gateway', 'baseline'] : ['baseline', 'gateway']) r[side] = await run(side === 'gateway' ? api.url : base.url);
    rows.push({ pair: p + 1, gateway_rps: round(r.gateway.rps, 0), baseline_rps: round(r.baseline.rps, 0), ratio: round(r.gateway.rps / r.baseline.rps), gateway_p50_ms: r.gateway.p50, baseline_p50_ms: r.baseline.p50, gateway_p99_ms: r.gateway.p99, baseline_p99_ms: r.baseline.p99 });
  }
  console.table(rows);
  const ratio = median(rows.map((r) => r.ratio));
  const pass = ratio >= TARGET;
  console.log(`cluster-read: ${CONNECTIONS} connections, ${SECONDS} s per run, ${PAIRS} pairs; requests/s ratio gateway / bare Express+pg median ${ratio} (target >= ${TARGET}): ${pass ? 'PASS' : 'FAIL'}`);
  report('cluster-read', 'rps ratio gateway/baseline', ratio, `>= ${TARGET}`, pass);
  report('cluster-read', 'gateway rps (median)', round(median(rows.map((r) => r.gateway_rps)), 0));
  report('cluster-read', 'baseline rps (median)', round(median(rows.map((r) => r.baseline_rps)), 0));
  exitWith([pass]);
} finally {
  await base?.stop();
  await api.stop();
}
