/**
 * Deletion in the given order, one object at a time: delete, wait until the API server answers
 * 404, delete again with gracePeriodSeconds 0 after a time limit, and report what is left.
 */
import type { KubernetesObjectApi } from '@kubernetes/client-node';
import { errorText, isNotFound } from './client.js';
import { isOurs, readObject } from './apply.js';
import { describeRef, type ObjectRef } from './manifests.js';
import { pollUntil, type WaitOptions } from './readiness.js';

export interface Residue {
  kind: string;
  namespace: string | null;
  name: string;
  error: string;
}

export interface TeardownReport {
  removed: string[];
  /** Objects that were already gone or never ours (foreign namespaces are left alone). */
  absent: string[];
  residue: Residue[];
}

export interface TeardownOptions extends Omit<WaitOptions, 'timeoutMs'> {
  deleteTimeoutMs: number;
  /** Called after each object, e.g. to log progress. */
  onObject?: (ref: ObjectRef, outcome: 'removed' | 'absent' | 'residue') => void;
}

const header = (r: ObjectRef) => ({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) } });

async function issueDelete(api: KubernetesObjectApi, ref: ObjectRef, gracePeriodSeconds?: number): Promise<'gone' | 'deleting'> {
  try {
    await api.delete(header(ref), undefined, undefined, gracePeriodSeconds, undefined, 'Background');
    return 'deleting';
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw err;
  }
}

async function waitGone(api: KubernetesObjectApi, ref: ObjectRef, timeoutMs: number, opts: TeardownOptions): Promise<boolean> {
  const gone = await pollUntil(async () => ((await readObject(api, ref).catch(() => ({}))) === undefined ? true : undefined), { ...opts, timeoutMs });
  return gone === true;
}

/** Deletes one object and waits until it is gone; returns its outcome. */
async function removeOne(api: KubernetesObjectApi, ref: ObjectRef, opts: TeardownOptions): Promise<{ outcome: 'removed' | 'absent' } | { outcome: 'residue'; error: string }> {
  if (ref.kind === 'Namespace') {
    // Only namespaces the gateway created are deleted; a pre-existing one may hold other work.
    const ns = await readObject(api, ref);
    if (!ns || !isOurs(ns)) return { outcome: 'absent' };
  }
  if ((await issueDelete(api, ref)) === 'gone') return { outcome: 'absent' };
  if (await waitGone(api, ref, opts.deleteTimeoutMs, opts)) return { outcome: 'removed' };
  if ((await issueDelete(api, ref, 0)) === 'gone') return { outcome: 'removed' };
  if (await waitGone(api, ref, opts.deleteTimeoutMs, opts)) return { outcome: 'removed' };
  const still = (await readObject(api, ref).catch(() => undefined)) as { metadata?: { finalizers?: string[] } } | undefined;
  const finalizers = still?.metadata?.finalizers?.length ? `; finalizers: ${still.metadata.finalizers.join(', ')}` : '';
  return { outcome: 'residue', error: `still present ${Math.round((2 * opts.deleteTimeoutMs) / 1000)} s after deletion, including a forced one (gracePeriodSeconds 0)${finalizers}` };
}

/**
 * Removes the objects in the given order (callers pass the reverse of creation). A 404 counts
 * as removed. Errors other than cancellation are reported per object, and the rest continue.
 */
export async function teardown(api: KubernetesObjectApi, refs: ObjectRef[], opts: TeardownOptions): Promise<TeardownReport> {
  const report: TeardownReport = { removed: [], absent: [], residue: [] };
  for (const ref of refs) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    let result: Awaited<ReturnType<typeof removeOne>>;
    try {
      result = await removeOne(api, ref, opts);
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      result = { outcome: 'residue', error: `delete failed: ${errorText(err)}` };
    }
    const label = describeRef(ref);
    if (result.outcome === 'residue') report.residue.push({ kind: ref.kind, namespace: ref.namespace ?? null, name: ref.name, error: result.error });
    else report[result.outcome].push(label);
    opts.onObject?.(ref, result.outcome);
  }
  return report;
}
