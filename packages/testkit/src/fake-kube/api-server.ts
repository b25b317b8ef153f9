import { randomUUID } from 'node:crypto';
import { applyDefaults } from './defaults.js';
import { KubeError, alreadyExists, badRequest, conflict, forbidden, invalid, notFound } from './errors.js';
import { applyConfiguration, recordUpdate } from './managed-fields.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { apiVersionOf, byKind, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ServiceNetwork } from './service-network.js';
import { Store, type StoredObject } from './store.js';
import type { Timers } from './timers.js';
import type { KubeObject } from './types.js';
import { clone, isPlainObject, jsonEqual, nowIso } from './types.js';
import { validateObject } from './validation.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type ChangeListener = (rt: ResourceType, obj: KubeObject, type: ChangeType) => void;

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  force?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  dryRun?: boolean;
  /** DeleteOptions.preconditions */
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface Timing {
  deleteDelayMs(): number;
}

export const CONTROLLER_MANAGER = 'kube-controller-manager';
const PROTECTED_NAMESPACES = ['default', 'kube-system', 'kube-public'];
const FOREGROUND = 'foregroundDeletion';
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
export const randomSuffix = (n = 5): string => Array.from({ length: n }, () => NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)]).join('');

/**
 * The API server's object semantics over the Store: create/get/list/replace/patch/delete with the
 * real preconditions, validation, defaulting, metadata bookkeeping (uid, resourceVersion,
 * generation, managedFields), graceful deletion, namespace termination and garbage collection of
 * dependents (ownerReferences). Controllers (workloads.ts) listen to changes and write through it.
 */
export class ApiServer {
  readonly store = new Store();
  private readonly network = new ServiceNetwork();
  private readonly listeners: ChangeListener[] = [];
  /** uids whose deletion delay has passed (removal waits only for finalizers). */
  private readonly deletionDue = new Set<string>();
  /** uids deleted with propagationPolicy=Orphan. */
  private readonly orphaning = new Set<string>();
  /** uids whose deletion delay is running. */
  private readonly deletionScheduled = new Set<string>();

  constructor(
    private readonly timers: Timers,
    private readonly timing: Timing,
  ) {}

  /** Subscribes to every stored change; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private emit(rt: ResourceType, obj: KubeObject, type: ChangeType): void {
    for (const l of this.listeners) l(rt, obj, type);
  }

  // ---- reads -------------------------------------------------------------------------------

  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.get(rt, namespace, name);
    if (!obj) throw notFound(rt, name);
    return clone(obj);
  }

  list(rt: ResourceType, namespace: string | undefined, opts: ListOptions = {}): KubeObject {
    const byLabel = parseLabelSelector(opts.labelSelector);
    const byField = parseFieldSelector(opts.fieldSelector);
    let items = this.store.list(rt, namespace).filter((o) => byLabel(o.metadata.labels) && byField(o));
    const offset = opts.continueToken ? decodeContinue(opts.continueToken) : 0;
    let metadata: Record<string, unknown> = { resourceVersion: this.store.currentResourceVersion() };
    items = items.slice(offset);
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      metadata = { ...metadata, continue: encodeContinue(offset + opts.limit), remainingItemCount: items.length - opts.limit };
      items = items.slice(0, opts.limit);
    }
    return {
      kind: `${rt.kind}List`,
      apiVersion: apiVersionOf(rt),
      metadata,
      // Like the real server, list items carry no kind/apiVersion of their own.
      items: items.map((o) => {
        const { kind: _k, apiVersion: _a, ...rest } = clone(o);
        return rest;
      }),
    } as KubeObject;
  }

  // ---- writes ------------------------------------------------------------------------------

  create(rt: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): KubeObject {
    const obj = this.checkBody(rt, namespace, body, undefined);
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    const name = obj.metadata.name ?? '';
    if (rt.namespaced) this.requireLiveNamespace(rt, namespace ?? '', name);
    if (name && this.store.get(rt, namespace, name)) throw alreadyExists(rt, name);
    if (rt.hasStatus && rt.kind !== 'Namespace') delete obj.status;
    return this.commit(rt, obj, undefined, opts, (o) => recordUpdate(undefined, o, opts.fieldManager ?? 'unknown'));
  }

  replace(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions = {}): KubeObject {
    const old = this.store.get(rt, namespace, name);
    if (!old) throw notFound(rt, name);
    const obj = this.checkBody(rt, namespace, body, name);
    this.checkPreconditions(rt, old, obj);
    if (rt.hasStatus) obj.status = clone(old.status);
    return this.commit(rt, obj, old, opts, (o) => recordUpdate(old, o, opts.fieldManager ?? 'unknown'));
  }

  patch(rt: ResourceType, namespace: string | undefined, name: string, contentType: string, patch: unknown, opts: WriteOptions = {}): KubeObject {
    if (!PATCH_TYPES.includes(contentType)) {
      throw new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
    }
    const old = this.store.get(rt, namespace, name);
    if (contentType === 'application/apply-patch+yaml') return this.apply(rt, namespace, name, old, patch, opts);
    if (!old) throw notFound(rt, name);
    if (opts.force !== undefined) throw badRequest('force may not be specified for non-apply patch');
    const patched = this.patchDocument(old, contentType, patch);
    const obj = this.checkBody(rt, namespace, patched, name);
    this.checkPreconditions(rt, old, obj);
    if (rt.hasStatus) obj.status = clone(old.status);
    return this.commit(rt, obj, old, opts, (o) => recordUpdate(old, o, opts.fieldManager ?? 'unknown'));
  }

  private patchDocument(old: KubeObject, contentType: string, patch: unknown): unknown {
    const base = clone(old);
    delete base.metadata.managedFields;
    switch (contentType) {
      case 'application/merge-patch+json':
        if (!isPlainObject(patch)) throw badRequest('merge patch: the patch must be a JSON object');
        return mergePatch(base, patch);
      case 'application/strategic-merge-patch+json':
        if (!isPlainObject(patch)) throw badRequest('strategic merge patch: the patch must be a JSON object');
        return strategicMergePatch(base, patch);
      case 'application/json-patch+json':
        return jsonPatch(base, patch);
      default:
        throw new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
    }
  }

  /** Server-side apply: creates when missing; requires a field manager. */
  private apply(rt: ResourceType, namespace: string | undefined, name: string, old: KubeObject | undefined, body: unknown, opts: WriteOptions): KubeObject {
    if (!opts.fieldManager) {
      throw new KubeError(400, 'BadRequest', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    }
    if (!isPlainObject(body)) throw badRequest('apply patch: the body must be an object');
    const applied = this.checkBody(rt, namespace, body, name);
    if (!applied.metadata.name) applied.metadata.name = name;
    delete applied.status;
    if (old) this.checkPreconditions(rt, old, applied);
    else if (rt.namespaced) this.requireLiveNamespace(rt, namespace ?? '', name);
    const base = old ? clone(old) : undefined;
    const merged = applyConfiguration(base, applied, opts.fieldManager, opts.force === true, name);
    merged.metadata.namespace = rt.namespaced ? namespace : undefined;
    merged.metadata.name = name;
    return this.commit(rt, merged, old, opts, () => undefined);
  }

  /** Writes only `status` (the /status subresource). */
  replaceStatus(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, contentType: string | undefined, opts: WriteOptions = {}): KubeObject {
    const old = this.store.get(rt, namespace, name);
    if (!old) throw notFound(rt, name);
    const next = contentType ? this.patchDocument(old, contentType, body) : body;
    const obj = this.checkBody(rt, namespace, next, name);
    this.checkPreconditions(rt, old, obj);
    const updated = clone(old);
    updated.status = obj.status;
    return this.commit(rt, updated, old, opts, () => undefined);
  }

  delete(rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject {
    const obj = this.store.get(rt, namespace, name);
    if (!obj) throw notFound(rt, name);
    if (opts.preconditions?.uid && opts.preconditions.uid !== obj.metadata.uid) throw conflict(rt, name);
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== obj.metadata.resourceVersion) throw conflict(rt, name);
    if (rt.readOnly) throw new KubeError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    if (opts.dryRun) return clone(obj);
    const uid = obj.metadata.uid ?? '';
    if (opts.propagationPolicy === 'Orphan') this.orphaning.add(uid);
    if (rt.kind === 'Namespace') {
      if (PROTECTED_NAMESPACES.includes(name)) throw forbidden(rt, name, 'this namespace may not be deleted');
      return this.terminateNamespace(rt, obj);
    }
    if (opts.propagationPolicy === 'Foreground') this.startForegroundDeletion(rt, obj);
    const current = this.store.get(rt, namespace, name) ?? obj;
    if (opts.gracePeriodSeconds === 0) {
      this.deletionDue.add(uid);
      if (this.removeIfUnblocked(rt, current)) return deletedStatus(rt, current);
      return clone(this.store.get(rt, namespace, name) ?? current);
    }
    if (!current.metadata.deletionTimestamp || !this.deletionScheduled.has(uid)) {
      this.deletionScheduled.add(uid);
      const next = clone(current);
      next.metadata.deletionTimestamp ??= nowIso();
      next.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds ?? 30;
      this.store.set(rt, this.bump(next));
      this.emit(rt, next, 'MODIFIED');
      this.timers.after(this.timing.deleteDelayMs(), () => {
        this.deletionDue.add(uid);
        const current = this.store.get(rt, namespace, name);
        if (current?.metadata.uid === uid) this.removeIfUnblocked(rt, current);
      });
    }
    return clone(this.store.get(rt, namespace, name)!);
  }

  deleteCollection(rt: ResourceType, namespace: string | undefined, list: ListOptions, opts: DeleteOptions): KubeObject {
    const victims = this.list(rt, namespace, { labelSelector: list.labelSelector, fieldSelector: list.fieldSelector }).items as KubeObject[];
    for (const v of victims) {
      if (this.store.get(rt, v.metadata.namespace, v.metadata.name ?? '')) this.delete(rt, v.metadata.namespace, v.metadata.name ?? '', opts);
    }
    return this.list(rt, namespace, { labelSelector: list.labelSelector, fieldSelector: list.fieldSelector });
  }

  // ---- writes by the fake's own controllers ---------------------------------------------------

  /** Creates an object as a controller would (validated, bookkept); undefined when it cannot be created. */
  systemCreate(rt: ResourceType, obj: KubeObject): KubeObject | undefined {
    try {
      return this.create(rt, obj.metadata.namespace, obj, { fieldManager: CONTROLLER_MANAGER });
    } catch (e) {
      if (e instanceof KubeError) return undefined; // e.g. namespace terminating: the controller gives up like the real one
      throw e;
    }
  }

  /** Replaces spec/metadata of an object as a controller (no precondition). */
  systemUpdate(rt: ResourceType, obj: KubeObject): void {
    const old = this.store.get(rt, obj.metadata.namespace, obj.metadata.name ?? '');
    if (!old) return;
    const next = clone(obj);
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (rt.hasStatus) next.status = clone(old.status);
    this.commit(rt, next, old, {}, (o) => recordUpdate(old, o, CONTROLLER_MANAGER));
  }

  /** Sets `status` when it differs (a controller's status update); returns whether it changed. */
  setStatus(rt: ResourceType, namespace: string | undefined, name: string, status: Record<string, unknown>): boolean {
    const old = this.store.get(rt, namespace, name);
    if (!old || jsonEqual(old.status, status)) return false;
    const next = clone(old);
    next.status = clone(status);
    this.store.set(rt, this.bump(next));
    this.emit(rt, next, 'MODIFIED');
    return true;
  }

  /** Deletes as the garbage collector or a controller does (graceful, never throws). */
  systemDelete(rt: ResourceType, obj: KubeObject, gracePeriodSeconds?: number, propagationPolicy?: DeleteOptions['propagationPolicy']): void {
    const current = this.store.get(rt, obj.metadata.namespace, obj.metadata.name ?? '');
    if (!current || current.metadata.uid !== obj.metadata.uid) return;
    if (current.metadata.deletionTimestamp && gracePeriodSeconds !== 0) return;
    this.delete(rt, obj.metadata.namespace, obj.metadata.name ?? '', { gracePeriodSeconds, propagationPolicy });
  }

  private dependentsOf(uid: string): StoredObject[] {
    return this.store.all().filter(({ obj }) => (obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid));
  }

  /**
   * Foreground deletion: the owner gets the `foregroundDeletion` finalizer and stays (with its
   * deletionTimestamp) until the garbage collector has removed its dependents, deleted in
   * foreground too.
   */
  private startForegroundDeletion(rt: ResourceType, obj: KubeObject): void {
    const uid = obj.metadata.uid ?? '';
    const dependents = this.dependentsOf(uid);
    if (dependents.length === 0 || (obj.metadata.finalizers ?? []).includes(FOREGROUND)) return;
    const next = clone(obj);
    next.metadata.finalizers = [...(next.metadata.finalizers ?? []), FOREGROUND];
    next.metadata.deletionTimestamp ??= nowIso();
    this.store.set(rt, this.bump(next));
    this.emit(rt, next, 'MODIFIED');
    for (const d of dependents) this.systemDelete(d.rt, d.obj, undefined, 'Foreground');
  }

  /** After a dependent is gone: owners in foreground deletion with no dependents left go too. */
  private releaseForegroundOwners(removed: KubeObject): void {
    for (const ref of removed.metadata.ownerReferences ?? []) {
      const owner = this.store.findByUid(ref.uid);
      if (!owner || !(owner.obj.metadata.finalizers ?? []).includes(FOREGROUND) || this.dependentsOf(ref.uid).length > 0) continue;
      const next = clone(owner.obj);
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== FOREGROUND);
      if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
      this.store.set(owner.rt, this.bump(next));
      this.emit(owner.rt, next, 'MODIFIED');
      if (this.deletionDue.has(ref.uid)) this.removeIfUnblocked(owner.rt, next);
    }
  }

  /** Seeds an object at start (system namespaces, nodes, default ClusterRoles). */
  seed(rt: ResourceType, obj: KubeObject): void {
    this.commit(rt, { ...obj, apiVersion: apiVersionOf(rt), kind: rt.kind }, undefined, {}, (o) => recordUpdate(undefined, o, 'kube-apiserver'), true);
  }

  // ---- internals -------------------------------------------------------------------------------

  /** The body as an object of `rt`: kind/apiVersion/name/namespace must agree with the URL. */
  private checkBody(rt: ResourceType, namespace: string | undefined, body: unknown, urlName: string | undefined): KubeObject {
    if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON or YAML object');
    const obj = clone(body) as KubeObject;
    const expected = apiVersionOf(rt);
    if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (obj.kind !== undefined && obj.kind !== rt.kind) {
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${rt.kind}) for ${expected} ${rt.plural}`);
    }
    obj.apiVersion = expected;
    obj.kind = rt.kind;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isPlainObject(obj.metadata)) throw badRequest('metadata must be an object');
    const meta = obj.metadata;
    if (urlName !== undefined && meta.name !== undefined && meta.name !== urlName) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${urlName})`);
    }
    if (urlName !== undefined && meta.name === undefined) meta.name = urlName;
    if (rt.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
    } else delete meta.namespace;
    if (meta.name !== undefined && typeof meta.name !== 'string') throw badRequest('metadata.name must be a string');
    return obj;
  }

  private checkPreconditions(rt: ResourceType, old: KubeObject, next: KubeObject): void {
    const name = old.metadata.name ?? '';
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(rt, name);
    if (next.metadata.uid && next.metadata.uid !== old.metadata.uid) {
      throw new KubeError(409, 'Conflict', `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${old.metadata.uid}`, {
        name,
        kind: rt.plural,
      });
    }
  }

  private requireLiveNamespace(rt: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get(byKind('Namespace'), undefined, namespace);
    if (!ns) throw notFound(byKind('Namespace'), namespace);
    if (ns.metadata.deletionTimestamp) {
      throw forbidden(rt, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private bump(obj: KubeObject): KubeObject {
    obj.metadata.resourceVersion = this.store.nextResourceVersion();
    return obj;
  }

  /**
   * Completes and stores a write: server-owned metadata from `old`, defaults, validation, Service
   * allocation, generation, managed fields. An update that changes nothing is not written (the
   * resourceVersion stays), as with the real server.
   */
  private commit(rt: ResourceType, obj: KubeObject, old: KubeObject | undefined, opts: WriteOptions, manage: (o: KubeObject) => void, seeding = false): KubeObject {
    const meta = obj.metadata;
    const name = meta.name ?? '';
    if (old) {
      meta.uid = old.metadata.uid;
      meta.creationTimestamp = old.metadata.creationTimestamp;
      meta.generation = old.metadata.generation;
      meta.deletionTimestamp = old.metadata.deletionTimestamp;
      meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      if (meta.managedFields === undefined) meta.managedFields = old.metadata.managedFields;
    } else {
      meta.uid = randomUUID();
      meta.creationTimestamp = nowIso();
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
      if (rt.kind === 'Namespace') obj.status = { phase: 'Active' };
      if (rt.kind === 'Pod') obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
      if (rt.kind === 'Service') obj.status = { loadBalancer: {} }; // no cloud controller fills it in
    }
    for (const k of Object.keys(meta)) if (meta[k] === undefined) delete meta[k];
    applyDefaults(obj);
    const errors = validateObject(obj, old);
    if (errors.length) throw invalid(rt, name, errors);
    if (rt.kind === 'Service') {
      const others = this.store.list(rt).filter((s) => s.metadata.uid !== meta.uid);
      const allocErrors = this.network.allocate(obj, old, others);
      if (allocErrors.length) throw invalid(rt, name, allocErrors);
    }
    if (rt.hasGeneration) meta.generation = old ? (old.metadata.generation ?? 1) + (jsonEqual(obj.spec, old.spec) ? 0 : 1) : 1;
    else delete meta.generation;
    manage(obj);
    if (old && unchanged(old, obj)) return clone(old);
    if (opts.dryRun) return clone(obj);
    this.bump(obj);
    this.store.set(rt, obj);
    if (!seeding) this.emit(rt, obj, old ? 'MODIFIED' : 'ADDED');
    else this.emit(rt, obj, 'ADDED');
    if (old && meta.deletionTimestamp && this.deletionDue.has(meta.uid ?? '')) this.removeIfUnblocked(rt, obj);
    return clone(obj);
  }

  private terminateNamespace(rt: ResourceType, ns: KubeObject): KubeObject {
    const name = ns.metadata.name ?? '';
    if (!ns.metadata.deletionTimestamp) {
      const next = clone(ns);
      next.metadata.deletionTimestamp = nowIso();
      next.metadata.deletionGracePeriodSeconds = 0;
      next.status = { ...next.status, phase: 'Terminating' };
      this.store.set(rt, this.bump(next));
      this.emit(rt, next, 'MODIFIED');
      for (const { rt: r, obj } of this.store.all()) {
        if (r.namespaced && obj.metadata.namespace === name) this.systemDelete(r, obj);
      }
      // The namespace controller takes a while longer than its content.
      this.timers.after(this.timing.deleteDelayMs() * 2, () => {
        this.deletionDue.add(ns.metadata.uid ?? '');
        this.finishNamespace(name);
      });
    }
    return clone(this.store.get(rt, undefined, name)!);
  }

  private finishNamespace(name: string): void {
    const nsType = byKind('Namespace');
    const ns = this.store.get(nsType, undefined, name);
    if (!ns?.metadata.deletionTimestamp || !this.deletionDue.has(ns.metadata.uid ?? '')) return;
    const content = this.store.all().filter(({ rt, obj }) => rt.namespaced && obj.metadata.namespace === name);
    if (content.length > 0) return; // finished when its last object goes (removeIfUnblocked)
    this.removeIfUnblocked(nsType, ns);
  }

  /** Removes an object being deleted unless finalizers hold it; then collects its dependents. */
  private removeIfUnblocked(rt: ResourceType, obj: KubeObject): boolean {
    if ((obj.metadata.finalizers ?? []).length > 0) {
      if (!obj.metadata.deletionTimestamp) {
        const next = clone(obj);
        next.metadata.deletionTimestamp = nowIso();
        this.store.set(rt, this.bump(next));
        this.emit(rt, next, 'MODIFIED');
      }
      return false;
    }
    if (!this.store.remove(rt, obj)) return false;
    const uid = obj.metadata.uid ?? '';
    this.deletionDue.delete(uid);
    const orphan = this.orphaning.delete(uid);
    this.deletionScheduled.delete(uid);
    this.emit(rt, obj, 'DELETED');
    this.collectDependents(uid, orphan);
    this.releaseForegroundOwners(obj);
    if (rt.namespaced && obj.metadata.namespace) this.finishNamespace(obj.metadata.namespace);
    return true;
  }

  /** The garbage collector: dependents of a removed owner are deleted, or orphaned. */
  private collectDependents(ownerUid: string, orphan: boolean): void {
    for (const { rt, obj } of this.store.all()) {
      const refs = obj.metadata.ownerReferences ?? [];
      if (!refs.some((r) => r.uid === ownerUid)) continue;
      if (orphan) {
        const next = clone(obj);
        next.metadata.ownerReferences = refs.filter((r) => r.uid !== ownerUid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        this.systemUpdate(rt, next);
      } else {
        this.systemDelete(rt, obj);
      }
    }
  }
}

function unchanged(old: KubeObject, next: KubeObject): boolean {
  const strip = (o: KubeObject): unknown => {
    const { resourceVersion: _rv, managedFields, ...meta } = o.metadata;
    return { ...o, metadata: { ...meta, managedFields: (managedFields ?? []).map(({ time: _t, ...rest }) => rest) } };
  };
  return jsonEqual(strip(old), strip(next));
}

function deletedStatus(rt: ResourceType, obj: KubeObject): KubeObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: obj.metadata.name, ...(rt.group ? { group: rt.group } : {}), kind: rt.plural, uid: obj.metadata.uid },
  } as unknown as KubeObject;
}

const encodeContinue = (offset: number): string => Buffer.from(JSON.stringify({ offset })).toString('base64url');

function decodeContinue(token: string): number {
  try {
    const offset = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')).offset;
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw badRequest('invalid continue token');
}
