/**
 * Server-side apply under one field manager: applying the same object again changes nothing
 * (no 409 on re-runs, unlike the original's plain creates), and `force` takes over fields an
 * earlier tool (kubectl, the original gateway) owned.
 */
import { PatchStrategy, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { errorText, isNotFound } from './client.js';
import { describeRef, refOf, type KubeObject, type ObjectRef } from './manifests.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from './settings.js';

export const FIELD_MANAGER = 'cluster-controller-gateway';

export interface ApplyResult {
  ref: ObjectRef;
  /** The object did not exist before this apply (rollback removes only these). */
  created: boolean;
  /** A namespace that existed and is not ours: left alone, and never deleted by removal. */
  skipped?: 'foreign-namespace';
}

/** Failure of one object, with the object named. */
export class ObjectError extends Error {
  constructor(readonly ref: ObjectRef, readonly reason: string) {
    super(`${describeRef(ref)}: ${reason}`);
    this.name = 'ObjectError';
  }
}

const header = (o: KubeObject | ObjectRef) =>
  'metadata' in o
    ? { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) } }
    : { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) } };

/** Reads an object; undefined when it does not exist. */
export async function readObject(api: KubernetesObjectApi, ref: ObjectRef | KubeObject): Promise<KubernetesObject | undefined> {
  try {
    return await api.read(header(ref));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export const isOurs = (o: KubernetesObject | undefined): boolean => o?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;

/** Applies one object (server-side apply, force) and says whether it was created by this call. */
export async function applyObject(api: KubernetesObjectApi, obj: KubeObject): Promise<ApplyResult> {
  const ref = refOf(obj);
  try {
    const existing = await readObject(api, obj);
    if (obj.kind === 'Namespace' && existing && !isOurs(existing)) return { ref, created: false, skipped: 'foreign-namespace' };
    // client-node mutates the spec it is given (default namespace); apply a copy.
    await api.patch(structuredClone(obj) as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    return { ref, created: existing === undefined };
  } catch (err) {
    if (err instanceof ObjectError) throw err;
    throw new ObjectError(ref, `apply failed: ${errorText(err)}`);
  }
}
