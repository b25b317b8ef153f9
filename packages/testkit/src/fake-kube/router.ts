import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { ApiServer, DeleteOptions } from './api-server.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { KubeError, badRequest } from './errors.js';
import { findByPath, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { KubeObject } from './types.js';
import { clone, isPlainObject } from './types.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  fieldManager?: string;
}

export interface RouterDeps {
  api: ApiServer;
  token: string;
  serverAddress: () => string;
  record: (r: RecordedRequest) => void;
  /** Open watch responses, ended on close(). */
  watches: Set<ServerResponse>;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024; // the API server's request size limit
const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

function send(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' });
  res.end(text);
}

function sendError(res: ServerResponse, e: KubeError): void {
  send(res, e.code, e.toStatus());
}

const notFoundPath = (): KubeError => new KubeError(404, 'NotFound', 'the server could not find the requested resource', {});
const methodNotAllowed = (): KubeError => new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the client still gets its 413; far past it, the connection goes.
      if (size > MAX_BODY_BYTES * 8) req.destroy();
      else if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new KubeError(413, 'RequestEntityTooLarge', 'the server has received a request that is too large'));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) return false;
  const given = Buffer.from(m[1].trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function parseBody(text: string, contentType: string | undefined, yamlAllowed: boolean): unknown {
  if (text.trim() === '') throw badRequest('the request body is empty');
  const ct = contentType ?? 'application/json';
  if (ct.includes('protobuf') || ct.includes('cbor')) {
    throw new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  try {
    if (yamlAllowed || ct === 'application/yaml') return parseYaml(text, { maxAliasCount: 100 });
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding the request body: ${(e as Error).message.split('\n')[0]}`);
  }
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(raw)}`);
  return Number(raw);
}

interface ResourceRoute {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function resolveResource(group: string, version: string, segs: string[]): ResourceRoute {
  let namespace: string | undefined;
  let rest = segs;
  if (segs[0] === 'namespaces' && segs.length >= 3 && findByPath(group, version, segs[2])?.namespaced) {
    namespace = segs[1];
    rest = segs.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const rt = findByPath(group, version, plural ?? '');
  if (!rt || extra.length > 0) throw notFoundPath();
  if (!rt.namespaced && namespace !== undefined) throw notFoundPath();
  if (rt.namespaced && namespace === undefined && name !== undefined) throw notFoundPath();
  if (subresource !== undefined && !(subresource === 'status' && rt.hasStatus && !rt.readOnly)) throw notFoundPath();
  return { rt, namespace, name, subresource };
}

/** The HTTP face of the fake API server: auth, discovery, resource verbs, Status errors. */
export function createRouter(deps: RouterDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((e: unknown) => {
      if (e instanceof KubeError) sendError(res, e);
      else {
        if (process.env.FAKE_KUBE_DEBUG) console.error('fake-kube internal error', e);
        sendError(res, new KubeError(500, 'InternalError', `an error on the server has prevented the request from succeeding: ${(e as Error)?.message ?? e}`));
      }
    });
  };
}

async function handle(deps: RouterDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake-kube');
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const query = Object.fromEntries(url.searchParams.entries());
  const contentType = req.headers['content-type']?.split(';')[0].trim().toLowerCase();
  deps.record({ method, path, query, ...(contentType ? { contentType } : {}), ...(query.fieldManager ? { fieldManager: query.fieldManager } : {}) });

  if (!PUBLIC_PATHS.has(path) && !authorized(req, deps.token)) {
    req.resume();
    throw new KubeError(401, 'Unauthorized', 'Unauthorized');
  }
  if (path === '/version') return send(res, 200, versionInfo());
  if (PUBLIC_PATHS.has(path)) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('ok');
    return;
  }
  const segs = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw badRequest(`malformed path segment ${JSON.stringify(s)}`);
      }
    });
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api') {
    if (segs.length === 1) return send(res, 200, apiVersions(deps.serverAddress()));
    [group, version, rest] = ['', segs[1], segs.slice(2)];
  } else if (segs[0] === 'apis') {
    if (segs.length === 1) return send(res, 200, apiGroupList());
    if (segs.length === 2) {
      const doc = apiGroup(segs[1]);
      if (!doc) throw notFoundPath();
      return send(res, 200, doc);
    }
    [group, version, rest] = [segs[1], segs[2], segs.slice(3)];
  } else {
    throw notFoundPath();
  }
  if (rest.length === 0) {
    const doc = apiResourceList(group, version);
    if (!doc || method !== 'GET') throw notFoundPath();
    return send(res, 200, doc);
  }
  const route = resolveResource(group, version, rest);
  const bodyText = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);
  await serveResource(deps, route, method, url.searchParams, contentType, bodyText, req, res);
}

async function serveResource(
  deps: RouterDeps,
  { rt, namespace, name, subresource }: ResourceRoute,
  method: string,
  q: URLSearchParams,
  contentType: string | undefined,
  bodyText: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const api = deps.api;
  const write = { fieldManager: q.get('fieldManager') ?? undefined, dryRun: q.get('dryRun') === 'All', force: q.has('force') ? q.get('force') === 'true' : undefined };
  if (write.fieldManager !== undefined && write.fieldManager.length > 128) {
    throw new KubeError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes');
  }
  const isWrite = method !== 'GET';
  if (isWrite && rt.readOnly) throw methodNotAllowed();
  const list = {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: intParam(q, 'limit'),
    continueToken: q.get('continue') ?? undefined,
  };

  if (name === undefined) {
    if (method === 'GET') {
      if (q.get('watch') === 'true' || q.get('watch') === '1') return watch(deps, rt, namespace, q, req, res);
      return send(res, 200, api.list(rt, namespace, list));
    }
    if (rt.namespaced && namespace === undefined) throw methodNotAllowed();
    if (method === 'POST') return send(res, 201, api.create(rt, namespace, parseBody(bodyText, contentType, false), write));
    if (method === 'DELETE') return send(res, 200, api.deleteCollection(rt, namespace, list, deleteOptions(q, bodyText)));
    throw methodNotAllowed();
  }

  if (subresource === 'status') {
    if (method === 'GET') return send(res, 200, api.get(rt, namespace, name));
    if (method === 'PUT') return send(res, 200, api.replaceStatus(rt, namespace, name, parseBody(bodyText, contentType, false), undefined, write));
    if (method === 'PATCH') {
      const body = parseBody(bodyText, contentType, contentType === 'application/apply-patch+yaml');
      return send(res, 200, api.replaceStatus(rt, namespace, name, body, contentType ?? '', write));
    }
    throw methodNotAllowed();
  }

  switch (method) {
    case 'GET':
      return send(res, 200, api.get(rt, namespace, name));
    case 'PUT':
      return send(res, 200, api.replace(rt, namespace, name, parseBody(bodyText, contentType, false), write));
    case 'PATCH': {
      const isApply = contentType === 'application/apply-patch+yaml';
      const existed = api.store.get(rt, namespace, name) !== undefined;
      const body = parseBody(bodyText, contentType, isApply);
      const result = api.patch(rt, namespace, name, contentType ?? '', body, write);
      return send(res, isApply && !existed ? 201 : 200, result);
    }
    case 'DELETE':
      return send(res, 200, api.delete(rt, namespace, name, deleteOptions(q, bodyText)));
    default:
      throw methodNotAllowed();
  }
}

function deleteOptions(q: URLSearchParams, bodyText: string): DeleteOptions {
  let body: Record<string, any> = {};
  if (bodyText.trim() !== '') {
    try {
      const parsed = JSON.parse(bodyText);
      if (isPlainObject(parsed)) body = parsed;
    } catch {
      throw badRequest('error decoding DeleteOptions: the body is not JSON');
    }
  }
  const grace = intParam(q, 'gracePeriodSeconds') ?? (Number.isInteger(body.gracePeriodSeconds) ? body.gracePeriodSeconds : undefined);
  if (grace !== undefined && grace < 0) throw badRequest('gracePeriodSeconds must be non-negative');
  const policy = q.get('propagationPolicy') ?? body.propagationPolicy;
  if (policy !== undefined && policy !== null && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw new KubeError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  return {
    gracePeriodSeconds: grace,
    propagationPolicy: policy ?? (q.get('orphanDependents') === 'true' || body.orphanDependents === true ? 'Orphan' : undefined),
    dryRun: q.get('dryRun') === 'All' || (Array.isArray(body.dryRun) && body.dryRun.includes('All')),
    preconditions: isPlainObject(body.preconditions) ? body.preconditions : undefined,
  };
}

/** `?watch=true`: a stream of `{type, object}` lines; starts with ADDED for what exists unless a resourceVersion is given. */
function watch(deps: RouterDeps, rt: ResourceType, namespace: string | undefined, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
  const byLabel = parseLabelSelector(q.get('labelSelector') ?? undefined);
  const byField = parseFieldSelector(q.get('fieldSelector') ?? undefined);
  const matches = (obj: KubeObject) => (namespace === undefined || obj.metadata.namespace === namespace) && byLabel(obj.metadata.labels) && byField(obj);
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
  res.flushHeaders(); // clients wait for the headers before they read events
  const line = (type: string, obj: KubeObject) => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object: clone(obj) })}\n`);
  };
  const rv = q.get('resourceVersion');
  if (!rv || rv === '0') for (const obj of deps.api.store.list(rt, namespace)) if (matches(obj)) line('ADDED', obj);
  const unsubscribe = deps.api.onChange((changed, obj, type) => {
    if (changed === rt && matches(obj)) line(type, obj);
  });
  deps.watches.add(res);
  const end = () => {
    unsubscribe();
    deps.watches.delete(res);
    if (!res.writableEnded) res.end();
  };
  const timeout = intParam(q, 'timeoutSeconds');
  if (timeout !== undefined && timeout > 0) setTimeout(end, timeout * 1000).unref();
  req.on('close', end);
  res.on('close', end);
  res.on('error', end);
}
