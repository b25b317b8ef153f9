// PATCH /clusters/update/:id with the built-in allow-all JS rule on update_cluster, against the
// same with no rule, measured alternately (pairs) in one run on one gateway process.
// Target: throughput ratio >= 0.8; added median latency < 1 ms.
import { authHeaders, exitWith, load, median, report, round, sequentialMedianMs, startApi } from './lib.mjs';

const PAIRS = Math.max(Number(process.env.BENCH_PAIRS ?? 3), 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CLUSTERS = 50;
const ALLOW_ALL = 'aiosv1.policies.builtin.allow-all:v1.0.0-stable';

const api = await startApi();
try {
  for (let i = 0; i < CLUSTERS; i++) {
    await api.call('POST', '/clusters/create', { id: `bench-${i}`, regionId: 'r', clusterMetadata: { name: 'b', additionalInfo: {} }, tags: [] });
  }
  let n = 0;
  const requests = [
    {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...authHeaders },
      setupRequest: (req) => ({ ...req, path: `/clusters/update/bench-${n++ % CLUSTERS}`, body: JSON.stringify({ 'clusterMetadata.additionalInfo.n': n }) }),
    },
  ];
  const setRule = (on) => api.call('POST', '/pre-check-policies/update', { update_cluster: on ? ALLOW_ALL : '' });
  const patchOnce = (i) => api.call('PATCH', `/clusters/update/bench-${i % CLUSTERS}`, { 'clusterMetadata.additionalInfo.m': i });

  // Warm both paths (JIT, pools, the rule's sandbox).
  await setRule(true);
  await load({ url: api.url, connections: CONNECTIONS, seconds: 2, requests });
  await setRule(false);
  await load({ url: api.url, connections: CONNECTIONS, seconds: 2, requests });

  const rows = [];
  for (let p = 0; p < PAIRS; p++) {
    await setRule(false);
    const base = await load({ url: api.url, connections: CONNECTIONS, seconds: SECONDS, requests });
    const baseLat = await sequentialMedianMs(patchOnce);
    await setRule(true);
    const rule = await load({ url: api.url, connections: CONNECTIONS, seconds: SECONDS, requests });
    const ruleLat = await sequentialMedianMs(patchOnce);
    rows.push({ pair: p + 1, base_rps: base.rps, rule_rps: rule.rps, ratio: rule.rps / base.rps, base_p50_ms: baseLat, rule_p50_ms: ruleLat, added_ms: ruleLat - baseLat });
  }
  await setRule(false);
  console.table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toFixed(3)) : v]))));
  const ratio = median(rows.map((r) => r.ratio));
  const added = median(rows.map((r) => r.added_ms));
  const pass = ratio >= 0.8 && added < 1;
  console.log(`precheck-update: throughput ratio (allow-all JS rule / no rule) median ${ratio.toFixed(3)} (target >= 0.8); added median latency ${added.toFixed(3)} ms (target < 1 ms): ${pass ? 'PASS' : 'FAIL'}`);
  report('precheck-update', 'rps ratio allow-all rule/no rule', round(ratio), '>= 0.8', ratio >= 0.8);
  report('precheck-update', 'added median latency ms', round(added), '< 1', added < 1);
  exitWith([pass]);
} finally {
  await api.stop();
}
