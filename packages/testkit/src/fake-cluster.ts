import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One local HTTP server playing all of a cluster's services (controller, parameter updater,
 * metrics, membership), with the wire formats of reference/aios-neighbours.md §1 and §5.
 * Tests read what it received and make any path (or executeAction / vdag-controller action)
 * answer differently, fail, slow down or hang.
 */

export interface ReceivedRequest {
  method: string;
  path: string;
  /** The parsed JSON body, or undefined (no body, or not JSON). */
  body: any;
}

/** A reply. A string body is sent as raw text/html (to play a crashed Flask); anything else as JSON. */
export interface FakeReply {
  status: number;
  body?: unknown;
}

/** Computes a reply; `hit` counts the requests this override matched (from 1). Undefined = the default reply. */
export type FakeReplyFn = (req: ReceivedRequest, hit: number) => FakeReply | undefined;

export interface FakeMetrics {
  cluster_metrics: Record<string, unknown>;
  node_metrics: Array<Record<string, unknown>>;
}

export type FakeUrlMap = Record<
  'controllerService' | 'metricsService' | 'parameterUpdater' | 'membershipServer' | 'blocksQuery' | 'publicGateway',
  string
>;

export interface FakeCluster {
  url: string;
  /** All six `config.urlMap` keys, pointing at this server. */
  urlMap: FakeUrlMap;
  received: ReceivedRequest[];
  /** Requests on a path, or executeAction / vdag-controller requests with that action. */
  receivedOn(pathOrAction: string): ReceivedRequest[];
  /** The document `GET /cluster` answers with (and `GET /node/:id` reads from). */
  setMetrics(doc: FakeMetrics): void;
  respond(pathOrAction: string, reply: FakeReply | FakeReplyFn): void;
  /** Answers `status` with `{success: false, ...}`; only for the next `times` requests when given. */
  fail(pathOrAction: string, status?: number, times?: number): void;
  delay(pathOrAction: string, ms: number): void;
  /** Accepts the request and never answers. */
  hang(pathOrAction: string): void;
  /** Forgets overrides, received requests and state; metrics back to the default. */
  reset(): void;
  /** Stops the server, destroying open (hanging) connections. */
  close(): Promise<void>;
}

interface Override {
  reply?: FakeReply | FakeReplyFn;
  delayMs?: number;
  hang?: boolean;
  hits: number;
}

const ok = (data: unknown): FakeReply => ({ status: 200, body: { success: true, data } });

export interface FakeClusterOptions {
  /**
   * More ports serving the same services, e.g. a cluster's NodePorts (32300, 32301, ...) so that
   * the urlMap infra creation writes reaches this fake (the demo's simulated cluster).
   */
  alsoListenOn?: number[];
}

export async function startFakeCluster(opts: FakeClusterOptions = {}): Promise<FakeCluster> {
  const received: ReceivedRequest[] = [];
  let metrics = defaultFakeMetrics();
  let vdagControllers = new Set<string>();
  const overrides = new Map<string, Override>();
  const override = (key: string, patch: Omit<Override, 'hits'>): void => {
    overrides.set(key, { ...overrides.get(key), ...patch, hits: 0 });
  };

  function defaultReply(req: ReceivedRequest): FakeReply {
    const { method, path } = req;
    const body = req.body ?? {};
    const route = `${method} ${path}`;
    if (route === 'POST /executeAction') return controllerAction(body);
    if (route === 'POST /vdag-controller') return vdagAction(body);
    if (route === 'POST /cluster-actions/add-node') return ok({ id: 'fake-cluster', nodes: { count: 1, nodeData: [body] } });
    if (method === 'DELETE' && path.startsWith('/cluster-actions/remove-node/')) {
      return ok({ id: 'fake-cluster', nodes: { count: 0, nodeData: [] }, removed: decodeURIComponent(path.split('/')[3]) });
    }
    if (route === 'POST /mgmt') return ok({ received: req.body });
    if (route === 'GET /cluster') return ok(metrics);
    if (method === 'GET' && path.startsWith('/node/')) {
      const id = decodeURIComponent(path.slice('/node/'.length));
      const docs = metrics.node_metrics
        .filter((n) => n.id === id)
        .map((node) => ({ type: 'hardware', nodeId: id, clusterId: 'fake-cluster', metrics: { resource: { node } } }));
      return ok(docs);
    }
    if (route === 'POST /pre-checks/add-node') return { status: 200, body: { allowed: true, node_data: req.body, success: true } };
    if (route === 'POST /join-node') {
      const join_command = 'kubeadm join 127.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00';
      return { status: 200, body: { result: { success: true, join_command, message: 'join command generated' }, success: true } };
    }
    if (route === 'POST /pre-checks/remove-node') return { status: 200, body: { allowed: true, node_id: body.node_id, success: true } };
    if (route === 'POST /remove-node') {
      return { status: 200, body: { result: { success: true, message: `node ${body.node_id} removed` }, success: true } };
    }
    if (route === 'GET /sync-cluster') return { status: 200, body: { success: true, message: 'cluster synced' } };
    const known = ['/executeAction', '/vdag-controller', '/mgmt', '/cluster', '/pre-checks/add-node', '/join-node', '/pre-checks/remove-node', '/remove-node', '/sync-cluster'];
    if (known.includes(path)) return { status: 405, body: '<h1>Method Not Allowed</h1>' };
    return { status: 404, body: { success: false, message: `fake cluster: no route ${route}` } };
  }

  function controllerAction(body: Record<string, any>): FakeReply {
    switch (body.action) {
      case 'create_block':
      case 'remove_block':
      case 'remove_instance':
      case 'reassign':
        return ok('Action performed');
      case 'scale':
        return ok('scaled instances');
      case 'dry_run':
        return ok({ selection_score_data: { score: 0.5, node_info: { node_id: 'node-1', gpus: [0] } } });
      case 'query_init_container_data':
        return ok([true, { id: body.block_id, block_data: {}, status: 'pending', status_data: {} }]);
      case 'init_create_status_update':
      case 'init_remove_status_update':
        return ok('status updated');
      default:
        return { status: 500, body: { success: false, data: `Unknown action: ${body.action ?? 'None'}` } };
    }
  }

  function vdagAction(body: Record<string, any>): FakeReply {
    const p = body.payload ?? {};
    const missing = { status: 400, body: { success: false, message: 'Missing required parameters' } };
    switch (body.action) {
      case 'create_controller':
        if (!p.vdag_controller_id || !p.vdag_uri) return missing;
        vdagControllers.add(p.vdag_controller_id);
        return ok('Controller created successfully');
      case 'remove_controller':
        if (!p.vdag_controller_id) return missing;
        vdagControllers.delete(p.vdag_controller_id);
        return ok('Controller removed successfully');
      case 'scale_controller':
        if (!p.vdag_controller_id || !p.vdag_uri) return missing;
        return ok(`Controller scaled to ${p.replicas} replicas successfully`);
      case 'list_controllers':
        return ok([...vdagControllers]);
      default:
        return { status: 400, body: { success: false, message: `Unknown action: ${body.action}` } };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const entry: ReceivedRequest = { method: req.method ?? 'GET', path: new URL(req.url ?? '/', 'http://fake').pathname, body };
    received.push(entry);

    const action = typeof (body as any)?.action === 'string' ? (body as any).action : undefined;
    const o = (action !== undefined && overrides.get(action)) || overrides.get(entry.path);
    let reply: FakeReply | undefined;
    if (o) {
      o.hits++;
      if (o.hang) return; // keep the socket open; close() destroys it
      if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
      reply = typeof o.reply === 'function' ? o.reply(entry, o.hits) : o.reply;
    }
    send(res, reply ?? defaultReply(entry));
  }

  const serve = async (port: number) => {
    const srv = createServer((req, res) => {
      handle(req, res).catch((err) => send(res, { status: 500, body: `fake cluster crashed: ${err}` }));
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => resolve());
    });
    return srv;
  };
  const servers = [await serve(0)];
  try {
    for (const port of opts.alsoListenOn ?? []) servers.push(await serve(port));
  } catch (err) {
    for (const srv of servers) srv.close();
    throw err;
  }
  const server = servers[0];
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    urlMap: {
      controllerService: url,
      metricsService: url,
      parameterUpdater: url,
      membershipServer: url,
      blocksQuery: url,
      publicGateway: url,
    },
    received,
    receivedOn: (key) => received.filter((r) => r.path === key || (typeof r.body?.action === 'string' && r.body.action === key)),
    setMetrics: (doc) => {
      metrics = doc;
    },
    respond: (key, reply) => override(key, { reply }),
    fail: (key, status = 500, times = Infinity) =>
      override(key, {
        reply: (_req, hit) => (hit <= times ? { status, body: { success: false, data: `fake failure ${status}`, message: `fake failure ${status}` } } : undefined),
      }),
    delay: (key, ms) => override(key, { delayMs: ms }),
    hang: (key) => override(key, { hang: true }),
    reset: () => {
      received.length = 0;
      overrides.clear();
      metrics = defaultFakeMetrics();
      vdagControllers = new Set();
    },
    close: () => {
      closed ??= Promise.all(
        servers.map(
          (srv) =>
            new Promise<void>((resolve) => {
              srv.close(() => resolve());
              srv.closeAllConnections();
            }),
        ),
      ).then(() => undefined);
      return closed;
    },
  };
}

function send(res: ServerResponse, reply: FakeReply): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof reply.body === 'string';
  res.writeHead(reply.status, { 'content-type': text ? 'text/html; charset=utf-8' : 'application/json' });
  res.end(text ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body));
}

/** `metrics.resource.node` of one node, shaped as aios-neighbours §5.2 (MB, %, floats). */
function nodeResource(id: string, load: number, gpuUsedMem: number): Record<string, unknown> {
  const gpus = [0, 1].map((gpu_id) => ({
    gpu_id,
    usedMem: gpuUsedMem / 2,
    freeMem: 16384.0 - gpuUsedMem / 2,
    totalMem: 16384.0,
    memUtilization: (gpuUsedMem / 2 / 16384) * 100,
    cudaUtilization: 10.0,
    powerUtilization: 70.0,
    temperature: 45.0,
  }));
  return {
    id,
    memory: { freeMem: 24000.0, usedMem: 8000.0, averageUtil: 25.0, usedSwap: 0.0, freeSwap: 2048.0, pageFaultsPerSec: 0 },
    vcpu: { load1m: load, load5m: load * 0.8, load15m: load * 0.6, runningThreads: 900, runningProcesses: 3, totalThreads: 1200, totalProcesses: 310 },
    storage: {
      disks: {
        memory: { freeMem: 200000.0, usedMem: 50000.0, maxDisk: 250000.0, minDisk: 250000.0 },
        iops: { blocksPerSec: 0, readBytes: 123, writeBytes: 456, total: 579, active: 0, response: 0 },
      },
      freeMem: 200000.0,
      usedMem: 50000.0,
    },
    network: {
      txBytesTotal: 111, rxBytesTotal: 222, rxBytes1m: 0, rxBytes5m: 0, rxBytes15m: 0, txBytes1m: 0, txBytes5m: 0, txBytes15m: 0,
      ifaces: { txBytesTotal: 111, rxBytesTotal: 222, rxBytes1m: 0, rxBytes5m: 0, rxBytes15m: 0, txBytes1m: 0, txBytes5m: 0, txBytes15m: 0 },
    },
    gpu: {
      totalUsedMem: gpuUsedMem, totalFreeMem: 32768.0 - gpuUsedMem, totalMem: 32768.0,
      avgMemUtilization: (gpuUsedMem / 32768) * 100, avgCudaUtilization: 10.0, avgPowerUtilization: 70.0, avgTemperature: 45.0, count: 2,
    },
    gpus,
  };
}

/** Two nodes (node-1, node-2) and their aggregate, following the metrics service's rules (§5.3). */
export function defaultFakeMetrics(): FakeMetrics {
  const nodes = [nodeResource('node-1', 0.5, 2048.0), nodeResource('node-2', 1.5, 8192.0)];
  const cluster_metrics: Record<string, Record<string, number>> = {};
  for (const group of Object.keys(nodes[0]).filter((k) => k !== 'id')) {
    const flat = nodes.map((n) => flatten(n[group]));
    const combined: Record<string, number> = {};
    for (const key of Object.keys(flat[0])) {
      const values = flat.map((f) => f[key]);
      if (/averageUtil|load1m|load5m|load15m/.test(key)) combined[key] = values.reduce((a, b) => a + b, 0) / values.length;
      else if (key.includes('maxDisk')) combined[key] = Math.max(...values);
      else if (key.includes('minDisk')) combined[key] = Math.min(...values);
      else combined[key] = values.reduce((a, b) => a + b, 0);
    }
    cluster_metrics[group] = combined;
  }
  return { cluster_metrics, node_metrics: nodes };
}

/** `{a: {b: 1}, c: [{d: 2}]}` → `{"a.b": 1, "c[0].d": 2}`; numbers only. Top-level list items become `[i].`. */
function flatten(value: unknown, prefix = ''): Record<string, number> {
  if (typeof value === 'number') return { [prefix]: value };
  const out: Record<string, number> = {};
  if (Array.isArray(value)) value.forEach((v, i) => Object.assign(out, flatten(v, `${prefix}[${i}]`)));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return out;
}
