import { Redis } from 'ioredis';

/**
 * Everything Redis holds under a queue prefix (`{prefix}:*`), as one string: for tests that check
 * what the queue keeps (e.g. that no secret is stored in the clear, that finished jobs are gone).
 */
export async function redisQueueDump(redisUrl: string, prefix: string): Promise<string> {
  const redis = new Redis(redisUrl);
  try {
    let stored = '';
    for (const key of await redis.keys(`{${prefix}}:*`)) {
      const type = await redis.type(key);
      stored += `${key}=`;
      if (type === 'string') stored += await redis.get(key);
      else if (type === 'hash') stored += JSON.stringify(await redis.hgetall(key));
      else if (type === 'list') stored += JSON.stringify(await redis.lrange(key, '0', '-1'));
      else if (type === 'zset') stored += JSON.stringify(await redis.zrange(key, '0', '-1'));
      else if (type === 'set') stored += JSON.stringify(await redis.smembers(key));
      else if (type === 'stream') stored += JSON.stringify(await redis.xrange(key, '-', '+'));
      stored += '\n';
    }
    return stored;
  } finally {
    redis.disconnect();
  }
}
