// Shared helpers of the benchmark scripts: start the gateway's processes (the built API and
// workers, as separate processes on a private schema and queue prefix, authenticated with an
// admin token as users run them), a baseline server, drive them with autocannon, and compare
// them alternately in one run. Everything a script creates is removed by its stop().
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const baseDbUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** `require` as a workspace package resolves (bullmq, ioredis, express are not root dependencies). */
export const requireFrom = (workspacePath) => createRequire(path.join(root, workspacePath, 'package.json'));

/** The admin token every gateway process of a run is started with (GATEWAY_ADMIN_TOKEN) and every request carries. */
export const ADMIN_TOKEN = `ccg_bench_${randomBytes(24).toString('base64url')}`;
export const authHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** The database URL of a schema. BENCH_PG_OPTIONS (diagnostics only, e.g. `-c synchronous_commit=off`) is added to the session options. */
export function schemaUrl(schema) {
  const u = new URL(baseDbUrl);
  u.searchParams.set('options', `-c search_path=${schema}${process.env.BENCH_PG_OPTIONS ? ` ${process.env.BENCH_PG_OPTIONS}` : ''}`);
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

/** Deletes the Redis keys under a queue prefix (BullMQ's `{prefix}:...`, the baseline's too). */
export async function dropRedisPrefix(prefix) {
  const { Redis } = requireFrom('packages/tasks')('ioredis');
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for (const pattern of [`{${prefix}}*`, `${prefix}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
}

const freePort = () => 20000 + Math.floor(Math.random() * 20000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A child process whose stdout is read and dropped (as a container runtime drains it: the
 * gateway logs as it does in production); the tail of stderr is kept for failures.
 * `onLine` sees stdout lines (readiness of processes without an HTTP port).
 */
function spawnChild(file, env, onLine) {
  // BENCH_NODE_ARGS: extra node flags for the gateway's processes (e.g. --cpu-prof to profile a run).
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, file], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  let partial = '';
  child.stdout.on('data', (d) => {
    out = (out + d.toString()).slice(-4000);
    if (!onLine) return;
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop();
    for (const l of lines) onLine(l);
  });
  child.stderr.on('data', (d) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    exited,
    /** The tails of stderr and stdout (the gateway logs its failures on stdout). */
    stderr: () => `${err}${out ? `\n[stdout] ${out}` : ''}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function waitReady(url, proc, what) {
  for (let i = 0; i < 300; i++) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited: ${proc.stderr()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  await proc.stop();
  throw new Error(`${what} did not become ready: ${proc.stderr()}`);
}

/**
 * Starts the built API (apps/api/dist/main.js) on its own schema and queue prefix, with the
 * default log level unless BENCH_LOG_LEVEL says otherwise; `backend: 'redis'` puts its queue on
 * Redis, else BullMQ's Postgres backend. Resolves once /readyz is 200. `startWorker()` spawns a
 * worker process (apps/worker/dist/main.js) with the same settings, as the testkit's spawnWorker.
 */
export async function startApi({ backend = 'postgres', env: extraEnv = {} } = {}) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: baseDbUrl });
  await c.connect();
  await c.query(`create schema if not exists ${schema}`);
  await c.end();
  const port = freePort();
  const env = {
    DATABASE_URL: schemaUrl(schema),
    QUEUE_PREFIX: schema,
    KUBECONFIG_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
    ...(process.env.BENCH_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_LOG_LEVEL } : {}),
    ...(backend === 'redis' ? { REDIS_URL: redisUrl } : {}),
    ...extraEnv,
  };
  const api = spawnChild(path.join(root, 'apps/api/dist/main.js'), { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  const workers = new Set();
  try {
    await waitReady(`${url}/readyz`, api, 'the API');
  } catch (err) {
    await dropSchema(schema);
    throw err;
  }
  return {
    url,
    schema,
    env,
    call: (method, p, body) => call(url, method, p, body),
    /** A worker process on this gateway's database and queue; resolves once it says it started. */
    async startWorker(workerEnv = {}) {
      let started;
      const ready = new Promise((r) => (started = r));
      const w = spawnChild(path.join(root, 'apps/worker/dist/main.js'), { ...env, ...workerEnv, LOG_LEVEL: 'info' }, (line) => {
        if (line.includes('"worker started"')) started();
      });
      workers.add(w);
      const outcome = await Promise.race([ready.then(() => 'ok'), w.exited.then(() => 'exited'), sleep(30_000).then(() => 'timeout')]);
      if (outcome !== 'ok') {
        await w.stop();
        throw new Error(`the worker ${outcome === 'exited' ? 'exited' : 'did not start'}: ${w.stderr()}`);
      }
      return {
        async stop() {
          await w.stop();
          workers.delete(w);
        },
      };
    },
    async stop() {
      await Promise.all([...workers].map((w) => w.stop()));
      await api.stop();
      await dropSchema(schema);
      if (backend === 'redis') await dropRedisPrefix(schema);
    },
  };
}

/** A baseline server (bench/baseline-server.mjs `mode`) on the given schema; resolves once it answers. */
export async function startBaseline(mode, { schema, poolSize = 20, redisPrefix }) {
  const port = freePort();
  const proc = spawnChild(path.join(root, 'bench/baseline-server.mjs'), {
    BASELINE_MODE: mode,
    PORT: String(port),
    DATABASE_URL: schemaUrl(schema),
    POOL_SIZE: String(poolSize),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix ?? `${schema}_base`,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/ready`, proc, `the ${mode} baseline`);
  return {
    url,
    async stop() {
      await proc.stop();
      if (redisPrefix !== null) await dropRedisPrefix(redisPrefix ?? `${schema}_base`);
    },
  };
}

/** One JSON request with the admin token; throws on a non-2xx answer. */
export async function call(url, method, p, body) {
  const res = await fetch(url + p, { method, headers: { 'content-type': 'application/json', ...authHeaders }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * One autocannon run; `requests` as autocannon takes them (their headers should include
 * authHeaders; plain runs get them by default). Any non-2xx answer or error fails the run.
 */
export function load({ url, connections, seconds, requests, method, body }) {
  return new Promise((resolve, reject) => {
    const opts = { url, connections, duration: seconds, requests, headers: { ...authHeaders, ...(body ? { 'content-type': 'application/json' } : {}) } };
    if (method) opts.method = method;
    if (body) opts.body = JSON.stringify(body);
    autocannon(opts, (err, r) => {
      if (err) return reject(err);
      if (r.non2xx > 0 || r.errors > 0) return reject(new Error(`${r.non2xx} non-2xx and ${r.errors} errors during the run (${url})`));
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total });
    });
  });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The p-th percentile (nearest rank) of `xs`. */
export const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

export const round = (x, digits = 3) => Number(x.toFixed(digits));

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

/**
 * The summary line run-all.mjs collects: one JSON object per metric, on a line starting with
 * `BENCH_RESULT `. `target` is text (e.g. ">= 0.8"); `pass` is true/false, or null without a target.
 */
export function report(bench, metric, value, target = null, pass = null) {
  console.log(`BENCH_RESULT ${JSON.stringify({ bench, metric, value, target, pass })}`);
}

/** Exit code 0 only if every judged metric passed. */
export function exitWith(passes) {
  process.exitCode = passes.every(Boolean) ? 0 : 1;
}
