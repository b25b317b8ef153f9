import type { Logger } from 'pino';
import type { DecisionRepository, NewPrecheckDecision } from '@ccg/db';

const SECRET_KEY = /secret|password|passwd|token|credential|kube_?config|private_?key|api_?key/i;

/** Replaces the values of secret-looking keys (at any depth) with "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]));
}

/**
 * Every pre-check evaluation is logged, allows included. Records are buffered and written in
 * batches so logging never adds a database round trip to the request.
 */
export class DecisionLog {
  private buffer: NewPrecheckDecision[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: DecisionRepository,
    private readonly log: Logger,
    private readonly flushDelayMs = 100,
    private readonly maxBatch = 200,
  ) {}

  record(d: NewPrecheckDecision): void {
    this.buffer.push(d);
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushDelayMs);
      this.timer.unref();
    }
  }

  /** Writes what is buffered; resolves once it is in Postgres. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer.splice(0);
    this.flushing = this.flushing.then(async () => {
      if (!batch.length) return;
      try {
        await this.repo.insertMany(batch);
      } catch (err) {
        this.log.error({ err: (err as Error).message, lost: batch.length }, 'could not write pre-check decisions');
      }
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
