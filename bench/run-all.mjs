// `npm run bench`: runs the benchmark scripts one after another (all, or those named:
// `node bench/run-all.mjs cluster-read task-submit`) and prints one table of every metric they
// report (their `BENCH_RESULT` lines): bench, metric, value, target, PASS/FAIL.
// The exit code is 0 only if every judged metric passed and every script ran to the end.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const ALL = ['precheck-update', 'placement-filter', 'cluster-read', 'task-submit', 'task-latency', 'worker-scaling'];
const wanted = process.argv.slice(2).map((a) => a.replace(/\.mjs$/, ''));
const unknown = wanted.filter((w) => !ALL.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}

/** Runs one script, passing its output through and collecting its results. */
function runScript(name) {
  return new Promise((resolve) => {
    const results = [];
    const child = spawn(process.execPath, [path.join(dir, `${name}.mjs`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let partial = '';
    child.stdout.on('data', (d) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (line.startsWith('BENCH_RESULT ')) results.push(JSON.parse(line.slice('BENCH_RESULT '.length)));
        else process.stdout.write(`${line}\n`);
      }
    });
    child.on('exit', (code, signal) => {
      if (partial) process.stdout.write(`${partial}\n`);
      resolve({ results, code: code ?? (signal ? 1 : 0) });
    });
  });
}

const started = Date.now();
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const loadAtStart = load();
const table = [];
let ok = true;
for (const name of wanted.length ? wanted : ALL) {
  console.log(`\n=== ${name}`);
  const t0 = Date.now();
  const { results, code } = await runScript(name);
  for (const r of results) {
    table.push({ bench: r.bench, metric: r.metric, value: r.value, target: r.target ?? '', result: r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL' });
    if (r.pass === false) ok = false;
  }
  const judgedFail = results.some((r) => r.pass === false);
  if (code !== 0 && !judgedFail) {
    table.push({ bench: name, metric: '(script)', value: `exit ${code}`, target: '', result: 'ERROR' });
    ok = false;
  }
  console.log(`=== ${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`\nBenchmarks (${new Date().toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s; ${os.cpus().length} CPUs; load average ${loadAtStart} at the start, ${load()} at the end):`);
console.table(table);
process.exitCode = ok ? 0 : 1;
