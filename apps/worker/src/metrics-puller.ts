import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import { withAdvisoryLock, type ClusterRepository, type Database } from '@ccg/db';
import type { MetricsService } from '@ccg/metrics';

const LOCK_KEY = 424_243;
const MIN_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 10 * 60_000;
const CONCURRENCY = 4;

/**
 * The periodic metrics pull: every interval one worker replica (advisory lock) asks each cluster
 * that has `config.urlMap.metricsService` for `GET /cluster` and stores the answer. A cluster
 * that fails is skipped for an exponentially growing time (from the interval, at least 5 s, up to 10 min), so an unreachable
 * cluster costs one attempt per backoff period rather than one per interval.
 */
export class MetricsPuller {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private readonly failures = new Map<string, { count: number; retryAt: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clusters: ClusterRepository,
    private readonly metrics: MetricsService,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns which clusters were pulled, failed or skipped (tests and logs use it). */
  async tick(): Promise<{ pulled: string[]; failed: string[]; skipped: string[] }> {
    const result = { pulled: [] as string[], failed: [] as string[], skipped: [] as string[] };
    await withAdvisoryLock(this.db, LOCK_KEY, async () => {
      const ids = await this.clusters.idsWithService('metricsService');
      const due = ids.filter((id) => (this.failures.get(id)?.retryAt ?? 0) <= Date.now());
      result.skipped = ids.filter((id) => !due.includes(id));
      for (let i = 0; i < due.length; i += CONCURRENCY) {
        await Promise.all(due.slice(i, i + CONCURRENCY).map((id) => this.pullOne(id, result)));
      }
    }).catch((err) => this.log.warn({ err: (err as Error).message }, 'metrics pull pass failed'));
    return result;
  }

  private async pullOne(id: string, result: { pulled: string[]; failed: string[] }): Promise<void> {
    try {
      await this.metrics.pull(id);
      this.failures.delete(id);
      result.pulled.push(id);
    } catch (err) {
      const count = (this.failures.get(id)?.count ?? 0) + 1;
      const wait = Math.min(Math.max(this.intervalMs, MIN_BACKOFF_MS) * 2 ** (count - 1), MAX_BACKOFF_MS);
      this.failures.set(id, { count, retryAt: Date.now() + wait });
      result.failed.push(id);
      this.log.warn({ cluster_id: id, err: (err as Error).message, retry_in_ms: wait }, 'metrics pull failed');
    }
  }
}
