// Jest's global setup (plain ESM: Jest loads it outside its module mapper).
// Finds the services the tests need: TEST_DATABASE_URL (else the local Postgres, else an
// embedded one) and TEST_REDIS_URL (else the local Redis). Without Redis the queue tests run on
// the Postgres backend only and the run says so loudly; REQUIRE_REDIS=1 makes that a failure.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';

const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

async function postgresReachable(url) {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function redisReachable(url) {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/**
 * Drops the per-file test schemas of one run (t_<run id><6 hex>, and their _queue twins). Only
 * this run's: another `npm test` may be using the same Postgres at the same time.
 */
export async function dropTestSchemas(url, runId) {
  if (!/^[0-9a-f]{4}$/.test(runId ?? '')) return;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await c.connect();
  try {
    const { rows } = await c.query(`select nspname from pg_namespace where nspname ~ $1`, [`^t_${runId}[0-9a-f]{6}(_queue)?$`]);
    for (const { nspname } of rows) await c.query(`drop schema if exists ${nspname} cascade`);
  } finally {
    await c.end();
  }
}

export default async function globalSetup() {
  // Test files name their schemas after this run, so the teardown drops exactly this run's.
  process.env.CCG_TEST_RUN_ID = randomBytes(2).toString('hex');
  const dbUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  if (await postgresReachable(dbUrl)) {
    process.env.TEST_DATABASE_URL = dbUrl;
  } else {
    // The built @ccg/db (npm test builds first) knows how to run Postgres as root.
    const { startEmbeddedPostgres } = await import('@ccg/db/embedded');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ccg-test-pg-'));
    console.warn(`\n[testkit] no Postgres at ${dbUrl}: starting an embedded one in ${dir}`);
    globalThis.__ccgEmbedded = await startEmbeddedPostgres(path.join(dir, 'data'));
    process.env.TEST_DATABASE_URL = globalThis.__ccgEmbedded.url;
  }

  const redisUrl = process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;
  if (await redisReachable(redisUrl)) {
    process.env.CCG_TEST_REDIS_URL = redisUrl;
  } else if (process.env.REQUIRE_REDIS === '1' || process.env.REQUIRE_REDIS === 'true') {
    throw new Error(`REQUIRE_REDIS is set but no Redis answers at ${redisUrl}`);
  } else {
    process.env.CCG_TEST_REDIS_URL = '';
    const line = '!'.repeat(78);
    console.warn(`\n${line}\n[testkit] NO REDIS at ${redisUrl}: queue tests run on the Postgres backend ONLY.\n[testkit] Redis-backend tests are SKIPPED. Set TEST_REDIS_URL or start Redis; CI sets REQUIRE_REDIS=1.\n${line}\n`);
  }
}
