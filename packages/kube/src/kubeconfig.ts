/**
 * Kubeconfig intake: the spec sends kubeconfigs as YAML text, a JSON object, or base64 of
 * either. We parse, reduce to the current context (like `kubectl config view --minify
 * --flatten`) and refuse anything that would make the worker run a command or read a file,
 * unless the operator allows it (ALLOW_KUBECONFIG_EXEC). The client is always built from the
 * document itself, never from the process-global default config.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { InputError, type JsonObject } from '@ccg/contracts';

export interface KubeconfigOptions {
  /** Allow `exec`, `auth-provider` and file paths (they run commands / read files on the worker). */
  allowExec: boolean;
  /** The request field the kubeconfig came in, for error details. @defaultValue 'kube_config_data' */
  field?: string;
}

/**
 * A validated kubeconfig reduced to its current context: exactly one cluster, one user and one
 * context, all embedded (no file references unless allowed).
 */
export interface KubeconfigDoc {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: [{ name: string; cluster: JsonObject & { server: string } }];
  users: [{ name: string; user: JsonObject }];
  contexts: [{ name: string; context: JsonObject & { cluster: string; user: string } }];
  'current-context': string;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** User keys that run a command or read a file on the worker. */
const USER_COMMAND_KEYS = ['exec', 'auth-provider'];
const USER_FILE_KEYS = ['client-certificate', 'client-key', 'token-file', 'tokenFile', 'tokenfile'];
const CLUSTER_FILE_KEYS = ['certificate-authority'];
/** Any other key that looks like a file reference (e.g. a future `*-file` field) is refused too. */
const PATH_LIKE_KEY = /(^|[-_])(file|path)$|File$|Path$/;

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function fail(message: string, field: string): never {
  throw new InputError(`invalid ${field.split(/[.[]/)[0]}: ${message}`, { field });
}

/** Text to a document: YAML (JSON is YAML), or base64 of it when the text is base64 only. */
function parseText(text: string, field: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') fail('the kubeconfig is empty', field);
  let source = trimmed;
  let decoded = false;
  const compact = trimmed.replace(/\s+/g, '');
  // A kubeconfig in YAML or JSON always has a ':'; base64 never does.
  if (!trimmed.includes(':') && BASE64.test(compact)) {
    source = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    decoded = true;
    if (source.includes('\uFFFD')) fail('base64 that does not decode to text', field);
  }
  let doc: unknown;
  try {
    doc = parseYaml(source, { maxAliasCount: 50, uniqueKeys: false });
  } catch (err) {
    fail(`${decoded ? 'base64 of ' : ''}text that is neither YAML nor JSON (${(err as Error).message.split('\n')[0]})`, field);
  }
  if (!isObject(doc)) {
    fail(`${decoded ? 'decoded from base64, ' : ''}it is not a kubeconfig (expected a mapping with clusters, users, contexts and current-context)`, field);
  }
  return doc;
}

function toDocument(data: unknown, field: string): JsonObject {
  if (typeof data === 'string') return parseText(data, field) as JsonObject;
  if (isObject(data)) return JSON.parse(JSON.stringify(data)) as JsonObject;
  return fail('must be a kubeconfig as YAML text, a JSON object, or base64 of either', field);
}

function namedList(doc: JsonObject, key: string, inner: string, field: string): Array<{ index: number; name: string; body: JsonObject }> {
  const list = doc[key];
  if (list === undefined || list === null) fail(`${key} is missing`, `${field}.${key}`);
  if (!Array.isArray(list) || list.length === 0) fail(`${key} must be a non-empty list`, `${field}.${key}`);
  return list.map((entry, index) => {
    const at = `${field}.${key}[${index}]`;
    if (!isObject(entry)) fail(`${key}[${index}] must be a mapping`, at);
    if (typeof entry.name !== 'string' || entry.name === '') fail(`${key}[${index}].name is missing`, `${at}.name`);
    const body = entry[inner] ?? {};
    if (!isObject(body)) fail(`${key}[${index}].${inner} must be a mapping`, `${at}.${inner}`);
    return { index, name: entry.name, body };
  });
}

function checkUser(user: JsonObject, at: string, allowExec: boolean): void {
  if (allowExec) return;
  for (const k of USER_COMMAND_KEYS) {
    if (user[k] !== undefined) fail(`${k} runs a command on the gateway's worker and is refused (set ALLOW_KUBECONFIG_EXEC=true to allow it); embed a token or client certificate instead`, `${at}.${k}`);
  }
  for (const k of Object.keys(user)) {
    if (USER_FILE_KEYS.includes(k) || PATH_LIKE_KEY.test(k)) {
      fail(`${k} is a file path, which the gateway's worker does not have; embed the data (e.g. client-certificate-data, token) instead`, `${at}.${k}`);
    }
  }
}

function checkCluster(cluster: JsonObject, at: string, allowExec: boolean): string {
  const server = cluster.server;
  if (typeof server !== 'string' || server === '') fail('the cluster has no server URL', `${at}.server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    fail(`server "${server}" is not a URL`, `${at}.server`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`server must be an http(s) URL, got ${url.protocol}`, `${at}.server`);
  if (!allowExec) {
    for (const k of Object.keys(cluster)) {
      if (CLUSTER_FILE_KEYS.includes(k) || PATH_LIKE_KEY.test(k)) {
        fail(`${k} is a file path, which the gateway's worker does not have; use certificate-authority-data instead`, `${at}.${k}`);
      }
    }
  }
  return server;
}

/**
 * Parses and validates a kubeconfig sent as YAML text, a JSON object, or base64 of either, and
 * reduces it to the current context. Throws InputError (400) with `details.field` naming the
 * offending field, e.g. `kube_config_data.users[0].user.exec`.
 */
export function parseKubeconfig(data: unknown, opts: KubeconfigOptions): KubeconfigDoc {
  const field = opts.field ?? 'kube_config_data';
  const doc = toDocument(data, field);
  if (Object.keys(doc).length === 0) fail('the kubeconfig is empty', field);
  const current = doc['current-context'];
  if (typeof current !== 'string' || current === '') fail('current-context is missing', `${field}.current-context`);
  const contexts = namedList(doc, 'contexts', 'context', field);
  const context = contexts.find((c) => c.name === current);
  if (!context) fail(`current-context "${current}" names no entry of contexts`, `${field}.current-context`);
  const ctxAt = `${field}.contexts[${context.index}].context`;
  const clusterName = context.body.cluster;
  const userName = context.body.user;
  if (typeof clusterName !== 'string' || clusterName === '') fail('the current context names no cluster', `${ctxAt}.cluster`);
  if (typeof userName !== 'string' || userName === '') fail('the current context names no user', `${ctxAt}.user`);
  const cluster = namedList(doc, 'clusters', 'cluster', field).find((c) => c.name === clusterName);
  if (!cluster) fail(`cluster "${clusterName}" of the current context is not in clusters`, `${ctxAt}.cluster`);
  // A token-only config may omit users entirely only if the context's user is absent; kubectl
  // would then use no credentials, so we require the entry.
  const user = namedList(doc, 'users', 'user', field).find((u) => u.name === userName);
  if (!user) fail(`user "${userName}" of the current context is not in users`, `${ctxAt}.user`);
  const server = checkCluster(cluster.body, `${field}.clusters[${cluster.index}].cluster`, opts.allowExec);
  checkUser(user.body, `${field}.users[${user.index}].user`, opts.allowExec);
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster.name, cluster: { ...cluster.body, server } }],
    users: [{ name: user.name, user: user.body }],
    contexts: [{ name: context.name, context: { ...context.body, cluster: clusterName, user: userName } }],
    'current-context': context.name,
  };
}

/** The reduced kubeconfig as text (JSON, which is also YAML): what gets sealed as the task's secret. */
export function kubeconfigText(doc: KubeconfigDoc): string {
  return JSON.stringify(doc);
}

/** The API server URL of the document's current context. */
export function kubeconfigServer(doc: KubeconfigDoc): string {
  return doc.clusters[0].cluster.server;
}

/**
 * A client-node KubeConfig for this document only. Never `loadFromDefault`: the original set the
 * process-global default, so concurrent infra tasks could use each other's credentials.
 */
export function toKubeConfig(doc: KubeconfigDoc): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigText(doc));
  return kc;
}
