import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ApiServer } from './api-server.js';
import { seedCluster } from './bootstrap.js';
import { Controllers } from './controllers.js';
import { kubeconfigFor, kubeconfigYamlFor } from './kubeconfig.js';
import type { ImageFailure } from './pods.js';
import { RESOURCE_TYPES, findByKindOrName } from './resources.js';
import { createRouter, type RecordedRequest } from './router.js';
import { parseLabelSelector } from './selectors.js';
import { Timers } from './timers.js';
import type { KubeObject } from './types.js';
import { clone } from './types.js';

export type { KubeObject } from './types.js';
export type { RecordedRequest as FakeKubeRequest } from './router.js';

export interface FakeKubeOptions {
  /** 0 = a random free port (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Pods start (and workloads become ready) this long after they are created (default 300). */
  readyDelayMs?: number;
  /** Objects disappear this long after DELETE (default 200); namespaces take twice as long. */
  deleteDelayMs?: number;
  /** Node names (default ['node-1', 'node-2']); DaemonSets run one pod per (matching) node. */
  nodes?: string[];
  /** image → its pods never become ready and wait with this reason (e.g. ImagePullBackOff). */
  failingImages?: Record<string, ImageFailure>;
  /** The bearer token the server requires (default: a random one). */
  token?: string;
}

export interface FakeKube {
  url: string;
  token: string;
  kubeconfig(contextName?: string): Record<string, unknown>;
  kubeconfigYaml(contextName?: string): string;
  /** What exists now (deep copies, with kind and apiVersion). `kind` is a Kind, plural or short name. */
  objects(filter?: { kind?: string; namespace?: string; labelSelector?: string }): KubeObject[];
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  failImage(image: string, reason: string, message?: string): void;
  clearFailures(): void;
  setReadyDelay(ms: number): void;
  setDeleteDelay(ms: number): void;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function resourceTypeOf(kind: string) {
  const rt = findByKindOrName(kind);
  if (!rt) throw new Error(`fake-kube: unknown kind ${kind} (known: ${RESOURCE_TYPES.map((r) => r.kind).join(', ')})`);
  return rt;
}

/**
 * Starts a fake Kubernetes API server that the real @kubernetes/client-node can drive over HTTP:
 * discovery, CRUD with server-side apply, real Status errors, simulated workloads and deletion.
 */
export async function startFakeKube(opts: FakeKubeOptions = {}): Promise<FakeKube> {
  let readyDelayMs = opts.readyDelayMs ?? 300;
  let deleteDelayMs = opts.deleteDelayMs ?? 200;
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const failures = new Map<string, ImageFailure>(Object.entries(opts.failingImages ?? {}));
  const timers = new Timers();
  const api = new ApiServer(timers, { deleteDelayMs: () => deleteDelayMs });
  const controllers = new Controllers(api, timers, { readyDelayMs: () => readyDelayMs, failures });
  seedCluster(api, opts.nodes ?? ['node-1', 'node-2']);

  const requests: RecordedRequest[] = [];
  const watches = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let url = '';
  const server = createServer(
    createRouter({
      api,
      token,
      serverAddress: () => url.replace(/^https?:\/\//, ''),
      record: (r) => requests.push(r),
      watches,
    }),
  );
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  url = `http://${host}:${addr.port}`;

  const changeFailures = (change: () => void) => {
    const previous = new Map(failures);
    change();
    controllers.failuresChanged(previous);
  };

  return {
    url,
    token,
    kubeconfig: (contextName) => kubeconfigFor(url, token, contextName),
    kubeconfigYaml: (contextName) => kubeconfigYamlFor(url, token, contextName),
    objects(filter = {}) {
      const rt = filter.kind ? resourceTypeOf(filter.kind) : undefined;
      const byLabel = parseLabelSelector(filter.labelSelector);
      return api.store
        .all()
        .filter(({ rt: r, obj }) => (!rt || r === rt) && (filter.namespace === undefined || obj.metadata.namespace === filter.namespace) && byLabel(obj.metadata.labels))
        .map(({ obj }) => clone(obj));
    },
    get(kind, namespace, name) {
      const rt = resourceTypeOf(kind);
      return clone(api.store.get(rt, rt.namespaced ? namespace : undefined, name));
    },
    failImage: (image, reason, message) => changeFailures(() => failures.set(image, { reason, ...(message ? { message } : {}) })),
    clearFailures: () => changeFailures(() => failures.clear()),
    setReadyDelay: (ms) => {
      readyDelayMs = ms;
    },
    setDeleteDelay: (ms) => {
      deleteDelayMs = ms;
    },
    requests,
    async close() {
      timers.close();
      for (const w of watches) w.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
