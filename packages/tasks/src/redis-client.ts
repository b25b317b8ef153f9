import { Redis, type RedisOptions } from 'ioredis';

/** The ioredis internals its own close path uses (private in its types). */
interface RedisInternals {
  setStatus(status: string): void;
  flushQueue(error: Error): void;
  manuallyClosing: boolean;
}

/**
 * An ioredis client that really ends when told to disconnect while it waits to reconnect.
 *
 * ioredis (6.0) clears the retry timer in that case but has no socket left to emit 'close', so
 * the client never reaches 'end' and the commands sent before the drop never settle. BullMQ's
 * Worker.close waits for exactly that 'end' on its blocking connection (a duplicate of the
 * connection we hand it), so a worker closed during a reconnect hung forever (seen after a
 * Redis restart under load; redis/ioredis#2169, taskforcesh/bullmq#4656). This client, and
 * every duplicate made from it, finishes the close itself: status 'end', pending commands
 * rejected, the 'end' event emitted, as ioredis does when a socket closes.
 */
export function createRedisClient(url: string, options: RedisOptions): Redis {
  return endsWhileReconnecting(new Redis(url, options));
}

function endsWhileReconnecting(client: Redis): Redis {
  const disconnect = client.disconnect.bind(client);
  client.disconnect = (reconnect = false) => {
    const waitingToReconnect = client.status === 'reconnecting';
    disconnect(reconnect);
    if (reconnect || !waitingToReconnect) return;
    const internals = client as unknown as RedisInternals;
    internals.manuallyClosing = false;
    internals.setStatus('end');
    internals.flushQueue(new Error('Connection is closed.'));
  };
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override?: Partial<RedisOptions>) => endsWhileReconnecting(duplicate(override));
  return client;
}
