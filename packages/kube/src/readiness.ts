/**
 * Readiness per `kubectl rollout status`, polled with backoff under a per-step time limit.
 * The original compared fields that are unset right after creation, so its waits returned at
 * once; these rules need the controller to have observed the current generation first.
 */
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { errorText } from './client.js';
import { ObjectError, readObject } from './apply.js';
import { describeRef, refOf, type KubeObject, type ObjectRef } from './manifests.js';

export interface RolloutState {
  done: boolean;
  /** What is still awaited (kubectl's wording), or why the rollout cannot finish. */
  message: string;
  /** The rollout cannot finish by waiting (e.g. ProgressDeadlineExceeded). */
  failed?: boolean;
}

type Obj = KubernetesObject & { spec?: any; status?: any };

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function observed(o: Obj): RolloutState | undefined {
  const generation = num(o.metadata?.generation);
  const seen = o.status?.observedGeneration;
  if (typeof seen !== 'number' || seen < generation) return { done: false, message: 'waiting for the controller to observe the latest generation' };
  return undefined;
}

/** kubectl's DeploymentStatusViewer. */
export function deploymentState(o: Obj): RolloutState {
  const pending = observed(o);
  if (pending) return pending;
  const progressing = (o.status?.conditions ?? []).find((c: any) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, failed: true, message: `deployment exceeded its progress deadline${progressing.message ? `: ${progressing.message}` : ''}` };
  const replicas = typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1;
  const updated = num(o.status?.updatedReplicas);
  const total = num(o.status?.replicas);
  const available = num(o.status?.availableReplicas);
  if (updated < replicas) return { done: false, message: `${updated} out of ${replicas} new replicas have been updated` };
  if (total > updated) return { done: false, message: `${total - updated} old replicas are pending termination` };
  if (available < updated) return { done: false, message: `${available} of ${updated} updated replicas are available` };
  return { done: true, message: 'successfully rolled out' };
}

/** kubectl's StatefulSetStatusViewer. */
export function statefulSetState(o: Obj): RolloutState {
  const pending = observed(o);
  if (pending) return pending;
  const replicas = typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1;
  const ready = num(o.status?.readyReplicas);
  if (ready < replicas) return { done: false, message: `${ready} of ${replicas} pods are ready` };
  const strategy = o.spec?.updateStrategy;
  if (strategy?.type === 'OnDelete') return { done: true, message: 'ready (OnDelete updates are not awaited)' };
  const partition = num(strategy?.rollingUpdate?.partition);
  const updated = num(o.status?.updatedReplicas);
  if (partition > 0) {
    if (updated < replicas - partition) return { done: false, message: `${updated} of ${replicas - partition} partitioned pods have been updated` };
    return { done: true, message: 'partitioned roll out complete' };
  }
  if (updated < replicas) return { done: false, message: `${updated} of ${replicas} pods have been updated` };
  if (o.status?.updateRevision !== o.status?.currentRevision) return { done: false, message: `waiting for revision ${o.status?.updateRevision} (current ${o.status?.currentRevision})` };
  return { done: true, message: 'rolling update complete' };
}

/**
 * kubectl's DaemonSetStatusViewer, plus: zero desired pods counts only when no node can run
 * one (`eligibleNodes` 0); kubectl would call a DaemonSet that scheduled nothing yet "done".
 */
export function daemonSetState(o: Obj, eligibleNodes?: number): RolloutState {
  const pending = observed(o);
  if (pending) return pending;
  const desired = num(o.status?.desiredNumberScheduled);
  const updated = num(o.status?.updatedNumberScheduled);
  const available = num(o.status?.numberAvailable);
  if (desired === 0 && eligibleNodes !== undefined && eligibleNodes > 0) return { done: false, message: `no pods scheduled yet on ${eligibleNodes} eligible node(s)` };
  if (updated < desired) return { done: false, message: `${updated} out of ${desired} new pods have been updated` };
  if (available < desired) return { done: false, message: `${available} of ${desired} updated pods are available` };
  return { done: true, message: desired === 0 ? 'no node to run on' : 'successfully rolled out' };
}

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export interface WaitOptions {
  timeoutMs: number;
  pollInitialMs: number;
  pollMaxMs: number;
  signal?: AbortSignal;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. Never blocks the event loop. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls `probe` with doubling delays until it returns a value, the time limit passes (undefined) or the signal aborts. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, opts: WaitOptions): Promise<T | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = opts.pollInitialMs;
  for (;;) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const v = await probe();
    if (v !== undefined) return v;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(delay, left), opts.signal);
    delay = Math.min(delay * 2, opts.pollMaxMs);
  }
}

function selectorOf(o: Obj): string | undefined {
  const labels = o.spec?.selector?.matchLabels as Record<string, string> | undefined;
  if (!labels || Object.keys(labels).length === 0) return undefined;
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Why the first unready pod of a workload is not ready, e.g. `pod x: ImagePullBackOff: Back-off pulling image "y"`. */
export async function firstUnreadyPodReason(api: KubernetesObjectApi, o: Obj): Promise<string | undefined> {
  const selector = selectorOf(o);
  if (!selector) return undefined;
  let pods: any[];
  try {
    pods = (await api.list('v1', 'Pod', o.metadata?.namespace, undefined, undefined, undefined, undefined, selector)).items as any[];
  } catch (err) {
    return `pods could not be listed (${errorText(err)})`;
  }
  if (pods.length === 0) return 'no pod has been created';
  for (const pod of pods) {
    const ready = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready')?.status === 'True';
    if (ready) continue;
    const name = `pod ${pod.metadata?.name}`;
    for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason) return `${name}: container ${cs.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      const terminated = cs.state?.terminated ?? cs.lastState?.terminated;
      if (terminated?.reason && !cs.ready) return `${name}: container ${cs.name}: ${terminated.reason}${terminated.message ? `: ${terminated.message}` : ''} (exit code ${terminated.exitCode ?? '?'})`;
      if (!cs.ready && cs.state?.running) return `${name}: container ${cs.name} is running but not ready (readiness probe)`;
    }
    const unscheduled = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled' && c.status === 'False');
    if (unscheduled) return `${name}: ${unscheduled.reason ?? 'Unschedulable'}${unscheduled.message ? `: ${unscheduled.message}` : ''}`;
    return `${name}: phase ${pod.status?.phase ?? 'unknown'}`;
  }
  return undefined;
}

/** Nodes matching the DaemonSet's nodeSelector; undefined when nodes cannot be listed. */
async function eligibleNodes(api: KubernetesObjectApi, o: Obj): Promise<number | undefined> {
  try {
    const nodes = (await api.list('v1', 'Node')).items as any[];
    const selector = (o.spec?.template?.spec?.nodeSelector ?? {}) as Record<string, string>;
    return nodes.filter((n) => Object.entries(selector).every(([k, v]) => n.metadata?.labels?.[k] === v)).length;
  } catch {
    return undefined;
  }
}

/** Pod states no amount of waiting fixes: fail at once instead of at the time limit. */
const HOPELESS = /: (InvalidImageName|ErrImageNeverPull|CreateContainerConfigError|CreateContainerError)\b/;

/** A workload that did not become ready: names the object and the first unready pod's reason. */
export class NotReadyError extends ObjectError {
  constructor(ref: ObjectRef, readonly state: string, readonly podReason: string | undefined, waitedMs: number) {
    super(ref, `not ready after ${Math.round(waitedMs / 1000)} s (${state})${podReason ? `; ${podReason}` : ''}`);
    this.name = 'NotReadyError';
  }
}

/**
 * Waits until a workload is rolled out (other kinds are ready once applied). Throws
 * NotReadyError at the time limit, with the first unready pod's reason.
 */
export async function waitForReady(api: KubernetesObjectApi, obj: KubeObject, opts: WaitOptions): Promise<void> {
  if (!WORKLOAD_KINDS.has(obj.kind)) return;
  const ref = refOf(obj);
  const started = Date.now();
  let last: Obj | undefined;
  let state: RolloutState = { done: false, message: 'not read yet' };
  let hopeless: string | undefined;
  const done = await pollUntil(async () => {
    let current: Obj | undefined;
    try {
      current = (await readObject(api, obj)) as Obj | undefined;
    } catch (err) {
      state = { done: false, message: `read failed: ${errorText(err)}` };
      return undefined;
    }
    if (!current) {
      state = { done: false, message: 'the object does not exist' };
      return undefined;
    }
    last = current;
    if (obj.kind === 'Deployment') state = deploymentState(current);
    else if (obj.kind === 'StatefulSet') state = statefulSetState(current);
    else {
      state = daemonSetState(current);
      if (state.done && num(current.status?.desiredNumberScheduled) === 0) state = daemonSetState(current, await eligibleNodes(api, current));
    }
    if (state.done || state.failed) return true;
    // Only look at pods once the rollout has had a moment, to spot states waiting cannot fix.
    if (Date.now() - started > opts.pollMaxMs) {
      const reason = await firstUnreadyPodReason(api, current);
      if (reason && HOPELESS.test(reason)) {
        hopeless = reason;
        return true;
      }
    }
    return undefined;
  }, opts);
  if (done && state.done) return;
  const podReason = hopeless ?? (last ? await firstUnreadyPodReason(api, last) : undefined);
  throw new NotReadyError(ref, state.message, podReason, Date.now() - started);
}

/** Readable summary of a ref list. */
export const describeRefs = (refs: ObjectRef[]): string => refs.map(describeRef).join(', ');
