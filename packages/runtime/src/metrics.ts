import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UpstreamCall } from '@ccg/cluster-client';
import type { PrecheckEvaluation } from '@ccg/policy';
import { withTimeout, type JobRun, type QueueBackend } from '@ccg/tasks';

/** BullMQ job states counted per lane at scrape time. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children', 'completed', 'failed'] as const;

export interface GatewayMetricsOptions {
  /** Where queue depth is read from at scrape time; without it there is no queue family. */
  queues?: QueueBackend;
  /** The lanes to count (the catalogue's). */
  lanes?: () => string[];
  /** Time limit of the queue count at scrape time, so a down Redis does not hang /metrics. @defaultValue 1000 */
  queueTimeoutMs?: number;
  /** Process metrics (CPU, memory, event loop, GC). @defaultValue true */
  defaultMetrics?: boolean;
}

/**
 * Process metrics (CPU, memory, event loop, GC) are about the process, not a gateway instance:
 * collected once per process into their own registry and merged into each scrape (several
 * gateways in one process, as in tests, would otherwise each add GC and event-loop observers).
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The gateway's Prometheus registry: one per process. The packages that do the work know nothing
 * of prom-client; they take the small observer callbacks below (`observeJob` for the TaskRunner,
 * `observePrecheck` for the PrecheckGate, `observeUpstream` for the ClusterClient), which the
 * composition root wires in.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly withProcessMetrics: boolean;
  private readonly http: Histogram<'method' | 'route' | 'status'>;
  private readonly jobs: Histogram<'task_type' | 'outcome'>;
  private readonly precheckEvaluations: Counter<'action' | 'outcome' | 'mode'>;
  private readonly precheckDenials: Counter<'action'>;
  private readonly precheckLatency: Histogram<'action'>;
  private readonly upstreamLatency: Histogram<'service' | 'method' | 'outcome'>;
  private readonly upstreamErrors: Counter<'service' | 'outcome'>;

  constructor(opts: GatewayMetricsOptions = {}) {
    const registers = [this.registry];
    this.withProcessMetrics = opts.defaultMetrics !== false;
    this.http = new Histogram({
      name: 'ccg_http_request_duration_seconds',
      help: 'HTTP requests served, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.jobs = new Histogram({
      name: 'ccg_job_duration_seconds',
      help: 'Task runs that ended their task, by task type and outcome (completed, failed, cancelled)',
      labelNames: ['task_type', 'outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    this.precheckEvaluations = new Counter({
      name: 'ccg_precheck_evaluations_total',
      help: 'Pre-check rule evaluations, by action, outcome (allowed, denied, error, timeout) and mode',
      labelNames: ['action', 'outcome', 'mode'],
      registers,
    });
    this.precheckDenials = new Counter({
      name: 'ccg_precheck_denials_total',
      help: 'Actions refused by a pre-check rule (denials in enforce mode), by action',
      labelNames: ['action'],
      registers,
    });
    this.precheckLatency = new Histogram({
      name: 'ccg_precheck_duration_seconds',
      help: 'Pre-check evaluation latency (rule lookup, context and run), by action',
      labelNames: ['action'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamLatency = new Histogram({
      name: 'ccg_upstream_request_duration_seconds',
      help: "Calls to clusters' services (each attempt), by service, method and outcome",
      labelNames: ['service', 'method', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'ccg_upstream_errors_total',
      help: "Failed calls to clusters' services, by service and outcome (http_error, timeout, network_error)",
      labelNames: ['service', 'outcome'],
      registers,
    });
    if (opts.queues && opts.lanes) this.queueGauges(opts.queues, opts.lanes, opts.queueTimeoutMs ?? 1000);
  }

  /**
   * Counts each lane's jobs by state when scraped. A queue store that does not answer in time
   * leaves the family empty (no stale depth) and `ccg_queue_up` 0. prom-client collects all
   * metrics of a scrape concurrently, so both gauges share one read per scrape.
   */
  private queueGauges(queues: QueueBackend, lanes: () => string[], timeoutMs: number): void {
    type Counts = Array<readonly [string, Record<string, number>]>;
    let inflight: Promise<Counts | undefined> | undefined;
    const read = (): Promise<Counts | undefined> =>
      (inflight ??= withTimeout(Promise.all(lanes().map(async (lane) => [lane, await queues.queue(lane).getJobCounts(...QUEUE_STATES)] as const)), timeoutMs, 'queue depth')
        .catch(() => undefined)
        .finally(() => setImmediate(() => (inflight = undefined))));
    const registers = [this.registry];
    new Gauge({
      name: 'ccg_queue_jobs',
      help: 'Jobs in each queue lane by BullMQ state, read at scrape time',
      labelNames: ['lane', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const [lane, byState] of (await read()) ?? []) {
          for (const state of QUEUE_STATES) this.set({ lane, state }, byState[state] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'ccg_queue_up',
      help: 'Whether the queue store answered the scrape in time (1) or not (0)',
      registers,
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status: String(status) }, seconds);
  }

  readonly observeJob = (run: JobRun): void => {
    this.jobs.observe({ task_type: run.taskType, outcome: run.outcome }, run.durationMs / 1000);
  };

  readonly observePrecheck = (e: PrecheckEvaluation): void => {
    this.precheckEvaluations.inc({ action: e.action, outcome: e.outcome, mode: e.mode });
    if (e.refused) this.precheckDenials.inc({ action: e.action });
    this.precheckLatency.observe({ action: e.action }, e.latencyMs / 1000);
  };

  readonly observeUpstream = (call: UpstreamCall): void => {
    this.upstreamLatency.observe({ service: call.service, method: call.method, outcome: call.outcome }, call.durationMs / 1000);
    if (call.outcome !== 'ok') this.upstreamErrors.inc({ service: call.service, outcome: call.outcome });
  };

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    const registry = this.withProcessMetrics ? Registry.merge([this.registry, processMetrics()]) : this.registry;
    return { contentType: this.registry.contentType, body: await registry.metrics() };
  }
}
