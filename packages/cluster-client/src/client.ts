import {
  ClusterInfraNotReadyError,
  UpstreamError,
  UpstreamTimeoutError,
  type ClusterService,
} from './errors.js';

/**
 * The part of a cluster-registry document this client reads: `id` (for messages) and
 * `config.urlMap` (checked at run time, so any registry view of a cluster can be passed).
 */
export interface ClusterDocument {
  id?: unknown;
  config?: unknown;
}

export interface ClusterClientOptions {
  /** Per-request timeout. @defaultValue 10_000 */
  timeoutMs?: number;
  /** Timeout for slow controller actions (create_block, remove_block sleep 5–10 s upstream). @defaultValue 120_000 */
  longTimeoutMs?: number;
  /** Extra attempts for GETs after a connection error, 5xx or timeout. Never for POST/DELETE. @defaultValue 2 */
  retries?: number;
  /** Pause between GET attempts. @defaultValue 200 */
  retryDelayMs?: number;
  /** Told about every HTTP exchange (each attempt of a retried GET too); for metrics. Must not throw. */
  onCall?: (call: UpstreamCall) => void;
}

/** One HTTP exchange with a cluster service, as reported to `onCall`. */
export interface UpstreamCall {
  service: ClusterService;
  method: string;
  /** `ok`; `http_error` (an answer that is non-2xx, not JSON, or `success: false`); `timeout`; `network_error` (no answer). */
  outcome: 'ok' | 'http_error' | 'timeout' | 'network_error';
  /** The upstream status; null when no response arrived. */
  status: number | null;
  durationMs: number;
}

export interface CallOptions {
  /** Use `longTimeoutMs` instead of `timeoutMs`. */
  long?: boolean;
  /** An explicit timeout for this call (wins over `long`). */
  timeoutMs?: number;
}

export interface ClusterMetrics {
  cluster_metrics: Record<string, unknown>;
  node_metrics: unknown[];
}

/** Controller actions that sleep and run Kubernetes operations upstream; they get `longTimeoutMs`. */
const LONG_ACTIONS = new Set(['create_block', 'remove_block']);
const MAX_TEXT_IN_DETAILS = 4096;

interface RequestSpec {
  service: ClusterService;
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  path: string;
  body?: unknown;
  timeoutMs: number;
  /** Return `{status, body}` for any status with a JSON body instead of failing on non-2xx / success:false. */
  passThrough?: boolean;
}

interface Reply {
  status: number;
  body: unknown;
}

/**
 * The only code that talks HTTP to a cluster's services. Every call resolves its base URL from
 * the cluster document's `config.urlMap`, has a timeout, and turns failures into
 * UpstreamError (502) / UpstreamTimeoutError (504) with the upstream body kept in the details.
 */
export class ClusterClient {
  private readonly timeoutMs: number;
  private readonly longTimeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly onCall?: (call: UpstreamCall) => void;

  constructor(options: ClusterClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.longTimeoutMs = options.longTimeoutMs ?? 120_000;
    this.retries = Math.max(0, options.retries ?? 2);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 200);
    this.onCall = options.onCall;
  }

  /** `POST {controllerService}/executeAction` with the flat body `{action, ...fields}`; returns `data`. */
  async executeAction(cluster: ClusterDocument, action: string, fields: object = {}, opts: CallOptions = {}): Promise<unknown> {
    const long = opts.long ?? LONG_ACTIONS.has(action);
    const { action: _ignored, ...rest } = fields as Record<string, unknown>; // the argument names the action
    const reply = await this.request(cluster, {
      service: 'controllerService',
      method: 'POST',
      path: '/executeAction',
      body: { action, ...rest },
      timeoutMs: this.timeout(opts, long),
    });
    return unwrap(reply.body);
  }

  /**
   * `POST {controllerService}/vdag-controller`. The upstream status and JSON come back as they are
   * (the original gateway passes both through); no answer, a timeout or a non-JSON body still throw.
   */
  async vdagController(cluster: ClusterDocument, body: { action: string; payload?: unknown }, opts: CallOptions = {}): Promise<Reply> {
    return this.request(cluster, {
      service: 'controllerService',
      method: 'POST',
      path: '/vdag-controller',
      body,
      timeoutMs: this.timeout(opts),
      passThrough: true,
    });
  }

  /** `POST {controllerService}/cluster-actions/add-node`; returns `data` (the updated cluster document). */
  async addNode(cluster: ClusterDocument, nodeData: object, opts: CallOptions = {}): Promise<unknown> {
    const reply = await this.request(cluster, {
      service: 'controllerService',
      method: 'POST',
      path: '/cluster-actions/add-node',
      body: nodeData,
      timeoutMs: this.timeout(opts),
    });
    return unwrap(reply.body);
  }

  /** `DELETE {controllerService}/cluster-actions/remove-node/<id>`; returns `data`. */
  async removeNode(cluster: ClusterDocument, nodeId: string, opts: CallOptions = {}): Promise<unknown> {
    const reply = await this.request(cluster, {
      service: 'controllerService',
      method: 'DELETE',
      path: `/cluster-actions/remove-node/${encodeURIComponent(nodeId)}`,
      timeoutMs: this.timeout(opts),
    });
    return unwrap(reply.body);
  }

  /**
   * `POST {parameterUpdater}/mgmt` with the body as given (the caller builds
   * `{block_id, service, mgmt_action, mgmt_data, instance_id}`). Returns `data` when the reply is a
   * `{success: true, data}` envelope, else the downstream JSON as it is.
   */
  async mgmt(cluster: ClusterDocument, body: object, opts: CallOptions = {}): Promise<unknown> {
    const reply = await this.request(cluster, {
      service: 'parameterUpdater',
      method: 'POST',
      path: '/mgmt',
      body,
      timeoutMs: this.timeout(opts),
    });
    return unwrap(reply.body);
  }

  /** `GET {metricsService}/cluster`, unwrapped to `{cluster_metrics, node_metrics}`. */
  async clusterMetrics(cluster: ClusterDocument, opts: CallOptions = {}): Promise<ClusterMetrics> {
    const spec: RequestSpec = { service: 'metricsService', method: 'GET', path: '/cluster', timeoutMs: this.timeout(opts) };
    const reply = await this.request(cluster, spec);
    const data = unwrap(reply.body);
    if (!isObject(data) || !isObject(data.cluster_metrics) || !Array.isArray(data.node_metrics)) {
      throw new UpstreamError(`metricsService GET ${this.url(cluster, spec)} answered without {cluster_metrics, node_metrics}`, {
        service: spec.service,
        method: spec.method,
        url: this.url(cluster, spec),
        upstream_status: reply.status,
        upstream_body: reply.body,
        attempts: 1,
      });
    }
    return { cluster_metrics: data.cluster_metrics, node_metrics: data.node_metrics };
  }

  /** `GET {metricsService}/node/<id>`; returns `data` (the list of stored node documents). */
  async nodeMetrics(cluster: ClusterDocument, nodeId: string, opts: CallOptions = {}): Promise<unknown> {
    const reply = await this.request(cluster, {
      service: 'metricsService',
      method: 'GET',
      path: `/node/${encodeURIComponent(nodeId)}`,
      timeoutMs: this.timeout(opts),
    });
    return unwrap(reply.body);
  }

  /**
   * `{membershipServer}{path}` (e.g. `/pre-checks/add-node`, `/join-node`, `GET /sync-cluster`).
   * Returns `data` when the reply is a `{success: true, data}` envelope, else the JSON as it is
   * (the membership server answers `{allowed, node_data, success}`, `{result, success}`, ...).
   */
  async membership(
    cluster: ClusterDocument,
    path: string,
    body?: object,
    method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' = 'POST',
    opts: CallOptions = {},
  ): Promise<unknown> {
    const reply = await this.request(cluster, {
      service: 'membershipServer',
      method,
      path: path.startsWith('/') ? path : `/${path}`,
      body,
      timeoutMs: this.timeout(opts),
    });
    return unwrap(reply.body);
  }

  private timeout(opts: CallOptions, long = opts.long ?? false): number {
    return opts.timeoutMs ?? (long ? this.longTimeoutMs : this.timeoutMs);
  }

  private url(cluster: ClusterDocument, spec: RequestSpec): string {
    return serviceBaseUrl(cluster, spec.service) + spec.path;
  }

  /** Sends the request; GETs are retried on connection errors, 5xx and timeouts. */
  private async request(cluster: ClusterDocument, spec: RequestSpec): Promise<Reply> {
    const url = this.url(cluster, spec); // throws ClusterInfraNotReadyError before anything is sent
    const attempts = spec.method === 'GET' ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(url, spec, attempt);
      } catch (err) {
        if (attempt >= attempts || !retryable(err)) throw err;
        if (this.retryDelayMs > 0) await new Promise((r) => setTimeout(r, this.retryDelayMs));
      }
    }
  }

  /** One exchange, reported to `onCall` whatever its outcome. */
  private async once(url: string, spec: RequestSpec, attempt: number): Promise<Reply> {
    if (!this.onCall) return this.exchange(url, spec, attempt);
    const started = performance.now();
    let outcome: UpstreamCall['outcome'] = 'ok';
    let status: number | null = null;
    try {
      const reply = await this.exchange(url, spec, attempt);
      status = reply.status;
      if (spec.passThrough && (reply.status < 200 || reply.status > 299)) outcome = 'http_error';
      return reply;
    } catch (err) {
      if (err instanceof UpstreamTimeoutError) outcome = 'timeout';
      else if (err instanceof UpstreamError) {
        status = err.details.upstream_status;
        outcome = status === null ? 'network_error' : 'http_error';
      } else outcome = 'network_error';
      throw err;
    } finally {
      try {
        this.onCall({ service: spec.service, method: spec.method, outcome, status, durationMs: performance.now() - started });
      } catch {
        /* a metrics hook must never break a call */
      }
    }
  }

  private async exchange(url: string, spec: RequestSpec, attempt: number): Promise<Reply> {
    const { service, method } = spec;
    const init: RequestInit = {
      method,
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(spec.timeoutMs),
    };
    if (spec.body !== undefined) {
      init.body = JSON.stringify(spec.body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }

    let status: number;
    let text: string;
    try {
      const res = await fetch(url, init);
      status = res.status;
      text = await res.text(); // the timeout covers reading the body too
    } catch (err) {
      if (isTimeout(err)) throw new UpstreamTimeoutError({ service, method, url, timeout_ms: spec.timeoutMs, attempts: attempt });
      const cause = networkCause(err);
      throw new UpstreamError(`${service} ${method} ${url} failed: ${cause}`, {
        service,
        method,
        url,
        upstream_status: null,
        upstream_body: null,
        cause,
        attempts: attempt,
      });
    }

    const fail = (why: string, body: unknown): UpstreamError =>
      new UpstreamError(`${service} ${method} ${url} ${why}`, {
        service,
        method,
        url,
        upstream_status: status,
        upstream_body: body,
        attempts: attempt,
      });

    let body: unknown = null;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        const cut = text.length > MAX_TEXT_IN_DETAILS ? `${text.slice(0, MAX_TEXT_IN_DETAILS)}…` : text;
        throw fail(`answered ${status} with a body that is not JSON`, cut);
      }
    }
    if (spec.passThrough) return { status, body };
    if (status < 200 || status > 299) throw fail(`answered ${status}${upstreamMessage(body)}`, body);
    if (isObject(body) && body.success === false) throw fail(`answered ${status} with success: false${upstreamMessage(body)}`, body);
    return { status, body };
  }
}

/**
 * The base URL of one of the cluster's services, without trailing slashes. Throws
 * ClusterInfraNotReadyError (409) when `config.urlMap` or the key is missing or not an http(s) URL.
 */
export function serviceBaseUrl(cluster: ClusterDocument, service: ClusterService): string {
  const clusterId = typeof cluster?.id === 'string' && cluster.id ? cluster.id : '<unknown>';
  const key = `config.urlMap.${service}`;
  const urlMap = isObject(cluster?.config) ? cluster.config.urlMap : undefined;
  if (!isObject(urlMap)) throw new ClusterInfraNotReadyError(clusterId, key, 'is missing (the cluster has no config.urlMap)');
  const raw = urlMap[service];
  if (raw === undefined || raw === null || raw === '') throw new ClusterInfraNotReadyError(clusterId, key, 'is missing');
  if (typeof raw !== 'string') throw new ClusterInfraNotReadyError(clusterId, key, `is not a string (${typeof raw})`);
  const value = raw.trim().replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ClusterInfraNotReadyError(clusterId, key, `is not a URL: ${JSON.stringify(raw)}`);
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    throw new ClusterInfraNotReadyError(clusterId, key, `is not an http(s) URL: ${JSON.stringify(raw)}`);
  }
  return value;
}

/** `{success: true, data}` → `data`; anything else (other envelopes, raw JSON) as it is. */
function unwrap(body: unknown): unknown {
  return isObject(body) && body.success === true && 'data' in body ? body.data : body;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `: <text>` from the upstream's `data` / `message` / `error` string, for the error message. */
function upstreamMessage(body: unknown): string {
  if (!isObject(body)) return '';
  for (const k of ['message', 'error', 'data']) {
    const v = body[k];
    if (typeof v === 'string' && v) return `: ${v.length > 300 ? `${v.slice(0, 300)}…` : v}`;
  }
  return '';
}

/** Duck-typed: fetch's errors may come from another realm (e.g. under Jest), where instanceof fails. */
function isTimeout(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  return e?.name === 'TimeoutError' || (e?.name === 'AbortError' && /timeout/i.test(String(e.message)));
}

/** fetch's `TypeError: fetch failed` hides the reason in `cause` (e.g. `ECONNREFUSED`). */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.message ? `${cause.code} (${cause.message})` : cause.code;
  if (cause?.message) return cause.message;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

function retryable(err: unknown): boolean {
  if (err instanceof UpstreamTimeoutError) return true;
  if (err instanceof UpstreamError) {
    const status = err.details.upstream_status;
    return status === null || status >= 500;
  }
  return false;
}
