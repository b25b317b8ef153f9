export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** The Postgres every test file isolates itself in (its own schema); set by the global setup. */
export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
}

/** The Redis queue tests use, or undefined when none is reachable (then only Postgres queues run). */
export function testRedisUrl(): string | undefined {
  return process.env.CCG_TEST_REDIS_URL || undefined;
}
