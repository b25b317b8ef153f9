import pg from 'pg';

/**
 * Postgres LISTEN/NOTIFY for cache invalidation across replicas. `connected` is false while the
 * listening connection is down (callers then bypass their caches); it reconnects with backoff and
 * calls `onReset` after every (re)connect, since notifications may have been missed meanwhile.
 */
export interface ChangeFeedOptions {
  /** The listening connection's application_name (how other processes find the listeners). */
  applicationName?: string;
}

export class ChangeFeed {
  private client?: pg.Client;
  private closed = false;
  private retryMs = 200;
  connected = false;

  constructor(
    private readonly connectionString: string,
    private readonly channel: string,
    private readonly onMessage: (payload: string) => void,
    private readonly onReset: () => void,
    private readonly options: ChangeFeedOptions = {},
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`bad channel name ${channel}`);
  }

  async start(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true, application_name: this.options.applicationName });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => {
      if (n.channel === this.channel) this.onMessage(n.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      this.client = client;
      this.connected = true;
      this.retryMs = 200;
      this.onReset();
    } catch {
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client && this.client !== client) return;
    this.connected = false;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.onReset();
    if (this.closed) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
    setTimeout(() => void this.start(), wait).unref();
  }

  /** Notifies the channel from the listening connection (false while it is down). */
  async send(payload: string): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    try {
      await client.query('select pg_notify($1, $2)', [this.channel, payload]);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connected = false;
    await this.client?.end().catch(() => undefined);
  }
}

/** Sends a notification on `channel` through an existing pool. */
export async function notify(pool: pg.Pool, channel: string, payload: string): Promise<void> {
  await pool.query('select pg_notify($1, $2)', [channel, payload]);
}
