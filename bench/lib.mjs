// Shared helpers of the benchmark scripts: start a gateway process on a private schema, drive it
// with autocannon, and compare against a baseline measured alternately in the same run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const baseDbUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function schemaUrl(schema) {
  const u = new URL(baseDbUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function dropSchema(schema) {
  const c = new pg.Client({ connectionString: baseDbUrl });
  await c.connect();
  try {
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.query(`drop schema if exists ${schema}_queue cascade`);
  } finally {
    await c.end();
  }
}

/** Starts the built API (apps/api/dist/main.js) on its own schema; resolves once /readyz is 200. */
export async function startApi(extraEnv = {}) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: baseDbUrl });
  await c.connect();
  await c.query(`create schema if not exists ${schema}`);
  await c.end();
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [path.join(root, 'apps/api/dist/main.js')], {
    env: { PATH: process.env.PATH, DATABASE_URL: schemaUrl(schema), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', QUEUE_PREFIX: schema, KUBECONFIG_ENCRYPTION_KEY: randomBytes(32).toString('hex'), ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, schema, child, async stop() { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); await dropSchema(schema); } };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the API did not become ready');
}

export async function call(url, method, p, body) {
  const res = await fetch(url + p, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** One autocannon run; `requests` as autocannon takes them. */
export function load({ url, connections, seconds, requests }) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, requests }, (err, r) => {
      if (err) return reject(err);
      if (r.non2xx > 0 || r.errors > 0) return reject(new Error(`${r.non2xx} non-2xx and ${r.errors} errors during the run`));
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total });
    });
  });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Sequential latency of `fn` over `n` calls after a warm-up, in ms (median). */
export async function sequentialMedianMs(fn, n = 300) {
  for (let i = 0; i < 20; i++) await fn(i);
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}
