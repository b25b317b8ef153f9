import type { KubeObject, OwnerReference } from './types.js';
import { clone, isPlainObject, nowIso } from './types.js';

/** Pods as the kubelet would report them: built from a workload's template, status by simulated time. */

export interface ImageFailure {
  reason: string;
  message?: string;
}

/** An image's failure: exact match first, then the image without its tag (`repo/app:1.2` → `repo/app`). */
export function failureOf(image: string, failures: ReadonlyMap<string, ImageFailure>): ImageFailure | undefined {
  const exact = failures.get(image);
  if (exact) return exact;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  const at = image.indexOf('@');
  const cut = at >= 0 ? at : colon >= 0 ? colon : -1;
  return cut >= 0 ? failures.get(image.slice(0, cut)) : undefined;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (isPlainObject(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** pod-template-hash / controller-revision-hash: FNV-32a of the template, safe-encoded like the controllers do. */
export function templateHash(template: unknown): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(stableStringify(template), 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

export function ownerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export const controllerOf = (obj: KubeObject): OwnerReference | undefined => (obj.metadata.ownerReferences ?? []).find((r) => r.controller);

export function podFromTemplate(
  owner: KubeObject,
  name: string,
  extraLabels: Record<string, string>,
  nodeName: string | undefined,
): KubeObject {
  const template = clone(owner.spec?.template ?? {});
  const spec = { ...(template.spec ?? {}) };
  if (nodeName) spec.nodeName = nodeName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), ...extraLabels },
      ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec,
  };
}

export const isPodReady = (pod: KubeObject): boolean =>
  (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

export const isTerminating = (obj: KubeObject): boolean => Boolean(obj.metadata.deletionTimestamp);

export interface PodClock {
  /** When the pod's containers start (undefined = not yet known: just created). */
  startsAt: number | undefined;
  now: number;
  podIp: string;
  hostIp: string;
}

function condition(type: string, ok: boolean, since: string, reason?: string, message?: string): Record<string, unknown> {
  return { type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: since, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

/**
 * The status the kubelet would report: Pending/ContainerCreating until the start time, then Running
 * and Ready, except containers whose image fails, which stay waiting with the failure's reason
 * (the pod stays Pending and not Ready). Timestamps are kept from `previous` while unchanged.
 */
export function podStatus(pod: KubeObject, clock: PodClock, failures: ReadonlyMap<string, ImageFailure>): Record<string, unknown> {
  const previous = (pod.status ?? {}) as Record<string, any>;
  const created = pod.metadata.creationTimestamp ?? nowIso();
  const containers: any[] = Array.isArray(pod.spec?.containers) ? pod.spec.containers : [];
  if (!pod.spec?.nodeName) {
    return {
      phase: 'Pending',
      conditions: [condition('PodScheduled', false, created, 'Unschedulable', '0/0 nodes are available: no node matches the pod\'s node selector.')],
      qosClass: 'BestEffort',
    };
  }
  const started = clock.startsAt !== undefined && clock.now >= clock.startsAt;
  const startTime = previous.startTime ?? created;
  const keepSince = (type: string, ok: boolean): string => {
    const before = (previous.conditions ?? []).find((c: any) => c.type === type);
    return before && before.status === (ok ? 'True' : 'False') ? before.lastTransitionTime : nowIso();
  };
  const statuses = containers.map((c) => {
    const failure = typeof c.image === 'string' ? failureOf(c.image, failures) : undefined;
    const base = { name: c.name, image: c.image, imageID: '', restartCount: 0 };
    if (!started) return { ...base, ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } };
    if (failure) {
      return { ...base, ready: false, started: false, state: { waiting: { reason: failure.reason, ...(failure.message ? { message: failure.message } : {}) } } };
    }
    const prevState = (previous.containerStatuses ?? []).find((s: any) => s.name === c.name)?.state?.running;
    return {
      ...base,
      imageID: `docker-pullable://${c.image}@sha256:${'0'.repeat(64)}`,
      containerID: `containerd://${Buffer.from(`${pod.metadata.uid}/${c.name}`).toString('hex').slice(0, 64)}`,
      ready: true,
      started: true,
      state: { running: { startedAt: prevState?.startedAt ?? nowIso() } },
    };
  });
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const allReady = unready.length === 0 && statuses.length > 0;
  const notReadyMsg = `containers with unready status: [${unready.join(' ')}]`;
  const conditions = [
    condition('PodReadyToStartContainers', started, keepSince('PodReadyToStartContainers', started)),
    condition('Initialized', true, created),
    condition('Ready', allReady, keepSince('Ready', allReady), allReady ? undefined : 'ContainersNotReady', allReady ? undefined : notReadyMsg),
    condition('ContainersReady', allReady, keepSince('ContainersReady', allReady), allReady ? undefined : 'ContainersNotReady', allReady ? undefined : notReadyMsg),
    condition('PodScheduled', true, created),
  ];
  const anyRunning = statuses.some((s) => s.state.running);
  return {
    phase: allReady || (anyRunning && statuses.every((s) => s.state.running)) ? 'Running' : 'Pending',
    conditions,
    hostIP: clock.hostIp,
    hostIPs: [{ ip: clock.hostIp }],
    ...(started ? { podIP: clock.podIp, podIPs: [{ ip: clock.podIp }] } : {}),
    startTime,
    containerStatuses: statuses,
    qosClass: 'BestEffort',
  };
}
