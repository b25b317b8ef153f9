import { afterEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '@ccg/testkit';
import { createRedisClient } from '../src/redis-client.js';

/** Settles as `p` does, or resolves 'timed out' after `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timed out'> =>
  Promise.race([p, new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), ms).unref())]);

const waitForStatus = async (client: Redis, status: string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (client.status !== status) {
    if (Date.now() > deadline) throw new Error(`client stayed ${client.status}, never ${status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('a Redis client told to disconnect while it waits to reconnect', () => {
  let redis: PrivateRedis | undefined;
  const clients: Redis[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await redis?.stop();
  });

  /** A client on a private Redis that waits a minute (by default) between reconnect attempts. */
  const connected = async (retryDelayMs = 60_000): Promise<Redis> => {
    redis = await startPrivateRedis();
    const client = createRedisClient(redis.url, { retryStrategy: () => retryDelayMs, maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    clients.push(client);
    await once(client, 'ready');
    return client;
  };

  const endsAndFailsItsCommand = async (client: Redis) => {
    const pending = client.blpop(`never-pushed-${Date.now()}`, 0).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    await new Promise((r) => setTimeout(r, 50));
    await redis!.stop();
    await waitForStatus(client, 'reconnecting');

    const ended = once(client, 'end').then(() => 'ended');
    client.disconnect();

    expect(await within(ended, 2_000)).toBe('ended');
    expect(client.status).toBe('end');
    expect(await within(pending, 2_000)).toBe('Connection is closed.');
  };

  it('ends and fails the command it had sent', async () => {
    await endsAndFailsItsCommand(await connected());
  });

  it('does the same for its duplicates (BullMQ blocking connections are duplicates)', async () => {
    const duplicate = (await connected()).duplicate();
    duplicate.on('error', () => undefined);
    clients.push(duplicate);
    await once(duplicate, 'ready');
    await endsAndFailsItsCommand(duplicate);
  });

  it('lets a BullMQ worker waiting for jobs close while Redis is gone', async () => {
    redis = await startPrivateRedis();
    const connection = createRedisClient(redis.url, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    clients.push(connection);
    const worker = new Worker('idle-lane', async () => 'done', { connection, prefix: '{close-test}' });
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    await new Promise((r) => setTimeout(r, 300)); // the worker is now blocked waiting for a job
    await redis.stop();
    await new Promise((r) => setTimeout(r, 500)); // its connections are reconnecting

    expect(await within(worker.close().then(() => 'closed'), 5_000)).toBe('closed');
  });

  it('still reconnects when the disconnect asks for a reconnect', async () => {
    const client = await connected(50);
    client.disconnect(true);
    await once(client, 'ready');
    expect(await client.ping()).toBe('PONG');
  });
});
