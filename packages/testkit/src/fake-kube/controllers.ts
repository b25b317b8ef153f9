import { CONTROLLER_MANAGER, randomSuffix, type ApiServer } from './api-server.js';
import { type ImageFailure, controllerOf, failureOf, isPodReady, isTerminating, podFromTemplate, podStatus, templateHash, ownerRef } from './pods.js';
import { byKind, type ResourceType } from './resources.js';
import { labelSelectorObjectMatcher } from './selectors.js';
import type { Timers } from './timers.js';
import type { KubeObject } from './types.js';
import { clone, nowIso } from './types.js';

/**
 * The controllers of the fake cluster: Deployment → ReplicaSets → Pods, StatefulSet → Pods,
 * DaemonSet → one Pod per matching node, the scheduler (nodeName) and the kubelet (pod status
 * after the ready delay, image failures). They react to changes through a short work queue, so
 * a client reading right after a write still sees the previous status (observedGeneration lags).
 */

export interface SimulationSettings {
  readyDelayMs(): number;
  failures: ReadonlyMap<string, ImageFailure>;
}

const RECONCILE_LAG_MS = 10;
const POD = byKind('Pod');
const REPLICA_SET = byKind('ReplicaSet');
const DEPLOYMENT = byKind('Deployment');
const NODE = byKind('Node');

/** Counts the real API server omits when zero (`omitempty`). */
function withoutZeros(status: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out = { ...status };
  for (const k of keys) if (out[k] === 0) delete out[k];
  return out;
}

function resolveIntOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(String(value ?? ''));
  if (!m) return 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export class Controllers {
  private readonly queue = new Set<string>();
  private flushScheduled = false;
  /** pod uid → when its containers start. */
  private readonly startsAt = new Map<string, number>();
  /** deployment uid → the generation whose rollout started, and when. */
  private readonly rollouts = new Map<string, { generation: number; at: number }>();
  private nodeCursor = 0;
  private readonly podIps = new Map<string, string>();
  private podIpCounter = 2;

  constructor(
    private readonly api: ApiServer,
    private readonly timers: Timers,
    private readonly settings: SimulationSettings,
  ) {
    api.onChange((rt, obj, type) => this.observe(rt, obj, type));
  }

  /** After failImage/clearFailures: recovered pods start after the ready delay; all pods re-report. */
  failuresChanged(previous: ReadonlyMap<string, ImageFailure>): void {
    const now = Date.now();
    for (const pod of this.api.store.list(POD)) {
      const uid = pod.metadata.uid ?? '';
      const images: string[] = (pod.spec?.containers ?? []).map((c: any) => String(c.image));
      const wasFailing = images.some((i) => failureOf(i, previous));
      const failing = images.some((i) => failureOf(i, this.settings.failures));
      if (wasFailing && !failing) {
        const at = now + this.settings.readyDelayMs();
        this.startsAt.set(uid, Math.max(this.startsAt.get(uid) ?? 0, at));
        this.timers.after(at - now, () => this.enqueue('Pod', uid));
      }
      this.enqueue('Pod', uid);
    }
  }

  private observe(rt: ResourceType, obj: KubeObject, type: string): void {
    const uid = obj.metadata.uid ?? '';
    if (type === 'DELETED') {
      this.startsAt.delete(uid);
      this.podIps.delete(uid);
      this.rollouts.delete(uid);
    }
    switch (rt.kind) {
      case 'Pod': {
        if (type === 'ADDED') {
          const delay = this.settings.readyDelayMs();
          this.startsAt.set(uid, Date.now() + delay);
          this.timers.after(delay, () => this.enqueue('Pod', uid));
        }
        if (type !== 'DELETED') this.enqueue('Pod', uid);
        const owner = controllerOf(obj);
        if (owner) this.enqueue(owner.kind, owner.uid);
        break;
      }
      case 'ReplicaSet': {
        if (type !== 'DELETED') this.enqueue('ReplicaSet', uid);
        const owner = controllerOf(obj);
        if (owner) this.enqueue(owner.kind, owner.uid);
        break;
      }
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
      case 'Namespace':
        if (type !== 'DELETED') this.enqueue(rt.kind, uid);
        break;
    }
  }

  private enqueue(kind: string, uid: string): void {
    this.queue.add(`${kind}/${uid}`);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.timers.after(RECONCILE_LAG_MS, () => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const work = [...this.queue];
    this.queue.clear();
    for (const item of work) {
      const slash = item.indexOf('/');
      const kind = item.slice(0, slash);
      const found = this.api.store.findByUid(item.slice(slash + 1));
      if (!found || found.rt.kind !== kind) continue;
      try {
        this.reconcile(found.rt, found.obj);
      } catch (e) {
        // A controller bug must not take the fake down; say so only when asked.
        if (process.env.FAKE_KUBE_DEBUG) console.error('fake-kube controller error', kind, e);
      }
    }
  }

  private reconcile(rt: ResourceType, obj: KubeObject): void {
    switch (rt.kind) {
      case 'Pod':
        return this.reconcilePod(obj);
      case 'ReplicaSet':
        return this.reconcileReplicaSet(obj);
      case 'Deployment':
        return this.reconcileDeployment(obj);
      case 'StatefulSet':
        return this.reconcileStatefulSet(obj);
      case 'DaemonSet':
        return this.reconcileDaemonSet(obj);
      case 'Namespace':
        return this.reconcileNamespace(obj);
    }
  }

  /** The service account controller: every live namespace has a ServiceAccount `default`. */
  private reconcileNamespace(ns: KubeObject): void {
    const sa = byKind('ServiceAccount');
    const name = ns.metadata.name ?? '';
    if (isTerminating(ns) || this.api.store.get(sa, name, 'default')) return;
    this.api.systemCreate(sa, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
  }

  // ---- nodes, scheduler, kubelet ---------------------------------------------------------------

  private nodes(): KubeObject[] {
    return this.api.store.list(NODE);
  }

  private nodesFor(podSpec: any): KubeObject[] {
    const selector = podSpec?.nodeSelector ?? {};
    return this.nodes().filter((n) => labelSelectorObjectMatcher({ matchLabels: selector })(n.metadata.labels));
  }

  private pickNode(podSpec: any): string | undefined {
    const candidates = this.nodesFor(podSpec);
    if (candidates.length === 0) return undefined;
    return candidates[this.nodeCursor++ % candidates.length].metadata.name;
  }

  private reconcilePod(pod: KubeObject): void {
    if (!pod.spec?.nodeName && !isTerminating(pod)) {
      const node = this.pickNode(pod.spec);
      if (node) {
        const bound = clone(pod);
        bound.spec.nodeName = node;
        this.api.systemUpdate(POD, bound);
        return; // the update comes back as a change
      }
    }
    const uid = pod.metadata.uid ?? '';
    const nodeIndex = Math.max(0, this.nodes().findIndex((n) => n.metadata.name === pod.spec?.nodeName));
    let podIp = this.podIps.get(uid);
    if (!podIp) {
      const n = this.podIpCounter++;
      podIp = `10.244.${nodeIndex}.${(n % 250) + 2}`;
      this.podIps.set(uid, podIp);
    }
    const status = podStatus(
      pod,
      { startsAt: this.startsAt.get(uid), now: Date.now(), podIp, hostIp: `192.168.49.${nodeIndex + 2}` },
      this.settings.failures,
    );
    this.api.setStatus(POD, pod.metadata.namespace, pod.metadata.name ?? '', status);
  }

  private podsOf(owner: KubeObject): KubeObject[] {
    return this.api.store.list(POD, owner.metadata.namespace).filter((p) => controllerOf(p)?.uid === owner.metadata.uid);
  }

  // ---- ReplicaSet --------------------------------------------------------------------------------

  private reconcileReplicaSet(rs: KubeObject): void {
    const all = this.podsOf(rs);
    const live = all.filter((p) => !isTerminating(p));
    const desired = Number(rs.spec?.replicas ?? 1);
    if (!isTerminating(rs)) {
      for (let i = live.length; i < desired; i++) {
        const pod = this.api.systemCreate(POD, podFromTemplate(rs, `${rs.metadata.name}-${randomSuffix()}`, {}, this.pickNode(rs.spec?.template?.spec)));
        if (pod) live.push(pod);
      }
      if (live.length > desired) {
        // Scale down the least useful first: not ready, then the newest.
        const victims = [...live]
          .sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
          .slice(0, live.length - desired);
        for (const v of victims) this.api.systemDelete(POD, v);
        live.splice(0, live.length, ...live.filter((p) => !victims.includes(p)));
      }
    }
    const ready = live.filter(isPodReady).length;
    const status = {
      replicas: live.length,
      ...withoutZeros({ fullyLabeledReplicas: live.length, readyReplicas: ready, availableReplicas: ready }, ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']),
      observedGeneration: rs.metadata.generation,
    };
    this.api.setStatus(REPLICA_SET, rs.metadata.namespace, rs.metadata.name ?? '', status);
  }

  // ---- Deployment --------------------------------------------------------------------------------

  private reconcileDeployment(d: KubeObject): void {
    if (isTerminating(d)) return;
    const ns = d.metadata.namespace;
    const desired = Number(d.spec?.replicas ?? 1);
    const hash = templateHash(d.spec?.template);
    const owned = this.api.store.list(REPLICA_SET, ns).filter((r) => controllerOf(r)?.uid === d.metadata.uid);
    let newRs = owned.find((r) => r.metadata.labels?.['pod-template-hash'] === hash && !isTerminating(r));
    const revisions = owned.map((r) => Number(r.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0));
    const maxRevision = Math.max(0, ...revisions);
    const uid = d.metadata.uid ?? '';
    const generation = d.metadata.generation ?? 1;
    if (this.rollouts.get(uid)?.generation !== generation) {
      this.rollouts.set(uid, { generation, at: Date.now() });
      const deadlineMs = Number(d.spec?.progressDeadlineSeconds ?? 600) * 1000;
      this.timers.after(deadlineMs + 5, () => this.enqueue('Deployment', uid));
    }
    if (!newRs) {
      const template = clone(d.spec?.template ?? {});
      template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
      const selector = clone(d.spec?.selector ?? {});
      selector.matchLabels = { ...(selector.matchLabels ?? {}), 'pod-template-hash': hash };
      newRs =
        this.api.systemCreate(REPLICA_SET, {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${d.metadata.name}-${hash}`,
            namespace: ns,
            labels: template.metadata.labels,
            annotations: {
              'deployment.kubernetes.io/desired-replicas': String(desired),
              'deployment.kubernetes.io/max-replicas': String(desired + resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge, desired, true)),
              'deployment.kubernetes.io/revision': String(maxRevision + 1),
            },
            ownerReferences: [ownerRef(d)],
          },
          spec: { replicas: desired, selector, template },
        }) ?? undefined;
      if (!newRs) return;
    } else if (Number(newRs.spec?.replicas) !== desired) {
      const scaled = clone(newRs);
      scaled.spec.replicas = desired;
      this.api.systemUpdate(REPLICA_SET, scaled);
    }
    const olds = owned.filter((r) => r.metadata.uid !== newRs!.metadata.uid);
    const newAvailable = Number(newRs.status?.availableReplicas ?? 0);
    const recreate = d.spec?.strategy?.type === 'Recreate';
    if (recreate || newAvailable >= desired) {
      for (const old of olds) {
        if (Number(old.spec?.replicas) === 0) continue;
        const scaled = clone(old);
        scaled.spec.replicas = 0;
        this.api.systemUpdate(REPLICA_SET, scaled);
      }
    }
    this.updateDeploymentStatus(d, newRs, olds, desired);
  }

  private updateDeploymentStatus(d: KubeObject, newRs: KubeObject, olds: KubeObject[], desired: number): void {
    const sets = [newRs, ...olds].map((r) => this.api.store.get(REPLICA_SET, r.metadata.namespace, r.metadata.name ?? '') ?? r);
    const sum = (f: (r: KubeObject) => number) => sets.reduce((acc, r) => acc + f(r), 0);
    const replicas = sum((r) => Number(r.status?.replicas ?? 0));
    const available = sum((r) => Number(r.status?.availableReplicas ?? 0));
    const ready = sum((r) => Number(r.status?.readyReplicas ?? 0));
    const updated = Number(sets[0].status?.replicas ?? 0);
    const maxUnavailable = d.spec?.strategy?.type === 'Recreate' ? 0 : resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    const isAvailable = available >= desired - maxUnavailable;
    const complete = updated === desired && replicas === desired && available >= desired;
    const rollout = this.rollouts.get(d.metadata.uid ?? '');
    const deadlineMs = Number(d.spec?.progressDeadlineSeconds ?? 600) * 1000;
    const timedOut = !complete && rollout !== undefined && Date.now() - rollout.at > deadlineMs;
    const rsName = newRs.metadata.name;
    const previous: any[] = d.status?.conditions ?? [];
    const cond = (type: string, ok: boolean, reason: string, message: string) => {
      const before = previous.find((c) => c.type === type);
      const same = before && before.status === (ok ? 'True' : 'False') && before.reason === reason;
      const now = nowIso();
      return {
        type,
        status: ok ? 'True' : 'False',
        lastUpdateTime: same ? before.lastUpdateTime : now,
        lastTransitionTime: before && before.status === (ok ? 'True' : 'False') ? before.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const conditions = [
      isAvailable
        ? cond('Available', true, 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : cond('Available', false, 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      complete
        ? cond('Progressing', true, 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`)
        : timedOut
          ? cond('Progressing', false, 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`)
          : cond('Progressing', true, 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
    ];
    const status = {
      observedGeneration: d.metadata.generation,
      ...withoutZeros(
        { replicas, updatedReplicas: updated, readyReplicas: ready, availableReplicas: available, unavailableReplicas: Math.max(0, desired - available) },
        ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'],
      ),
      conditions,
    };
    this.api.setStatus(DEPLOYMENT, d.metadata.namespace, d.metadata.name ?? '', status);
  }

  // ---- StatefulSet -------------------------------------------------------------------------------

  private reconcileStatefulSet(s: KubeObject): void {
    const rt = byKind('StatefulSet');
    if (isTerminating(s)) return;
    const name = s.metadata.name ?? '';
    const desired = Number(s.spec?.replicas ?? 1);
    const updateRevision = `${name}-${templateHash(s.spec?.template)}`;
    const parallel = s.spec?.podManagementPolicy === 'Parallel';
    const ordinalOf = (p: KubeObject) => Number(String(p.metadata.name).slice(name.length + 1));
    const all = this.podsOf(s);
    const byOrdinal = new Map(all.map((p) => [ordinalOf(p), p]));
    const revisionOf = (p: KubeObject) => p.metadata.labels?.['controller-revision-hash'];

    // Scale down from the highest ordinal.
    for (const p of all) if (ordinalOf(p) >= desired && !isTerminating(p)) this.api.systemDelete(POD, p);
    // Create missing pods in order; OrderedReady waits for each to be ready before the next.
    for (let i = 0; i < desired; i++) {
      const existing = byOrdinal.get(i);
      if (!existing) {
        const podName = `${name}-${i}`;
        const labels = { 'controller-revision-hash': updateRevision, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(i) };
        const pod = podFromTemplate(s, podName, labels, this.pickNode(s.spec?.template?.spec));
        pod.spec.hostname = podName;
        if (s.spec?.serviceName) pod.spec.subdomain = s.spec.serviceName;
        this.api.systemCreate(POD, pod);
        if (!parallel) break;
      } else if (!parallel && (!isPodReady(existing) || isTerminating(existing))) break;
    }
    // Rolling update: replace one outdated pod at a time, highest ordinal first, once the rest are ready.
    const live = this.podsOf(s).filter((p) => !isTerminating(p) && ordinalOf(p) < desired);
    const outdated = live.filter((p) => revisionOf(p) !== updateRevision).sort((a, b) => ordinalOf(b) - ordinalOf(a));
    const partition = Number(s.spec?.updateStrategy?.rollingUpdate?.partition ?? 0);
    const rolling = s.spec?.updateStrategy?.type !== 'OnDelete';
    if (rolling && outdated.length > 0 && live.length === desired && live.every(isPodReady) && ordinalOf(outdated[0]) >= partition) {
      this.api.systemDelete(POD, outdated[0]);
    }
    const pods = this.podsOf(s).filter((p) => !isTerminating(p));
    const ready = pods.filter(isPodReady).length;
    const updated = pods.filter((p) => revisionOf(p) === updateRevision).length;
    const previousCurrent: string | undefined = s.status?.currentRevision;
    const rolledOut = updated === desired && ready === desired;
    const currentRevision = !previousCurrent || rolledOut ? updateRevision : previousCurrent;
    const current = pods.filter((p) => revisionOf(p) === currentRevision).length;
    const status = {
      observedGeneration: s.metadata.generation,
      replicas: pods.length,
      ...withoutZeros({ readyReplicas: ready, currentReplicas: current, updatedReplicas: updated }, ['readyReplicas', 'currentReplicas', 'updatedReplicas']),
      currentRevision,
      updateRevision,
      collisionCount: 0,
      availableReplicas: ready,
    };
    this.api.setStatus(rt, s.metadata.namespace, name, status);
  }

  // ---- DaemonSet ---------------------------------------------------------------------------------

  private reconcileDaemonSet(ds: KubeObject): void {
    const rt = byKind('DaemonSet');
    if (isTerminating(ds)) return;
    const name = ds.metadata.name ?? '';
    const hash = templateHash(ds.spec?.template);
    const nodes = this.nodesFor(ds.spec?.template?.spec).map((n) => n.metadata.name ?? '');
    const revisionOf = (p: KubeObject) => p.metadata.labels?.['controller-revision-hash'];
    let pods = this.podsOf(ds);
    for (const p of pods) if (!nodes.includes(p.spec?.nodeName) && !isTerminating(p)) this.api.systemDelete(POD, p);
    for (const node of nodes) {
      if (pods.some((p) => p.spec?.nodeName === node)) continue;
      const labels = { 'controller-revision-hash': hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) };
      const pod = podFromTemplate(ds, `${name}-${randomSuffix()}`, labels, node);
      this.api.systemCreate(POD, pod);
    }
    // Rolling update with maxUnavailable 1: replace an outdated pod only while every other node is available.
    pods = this.podsOf(ds).filter((p) => nodes.includes(p.spec?.nodeName));
    const live = pods.filter((p) => !isTerminating(p));
    const unavailable = nodes.filter((n) => !live.some((p) => p.spec?.nodeName === n && isPodReady(p))).length;
    const maxUnavailable = Math.max(1, resolveIntOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, nodes.length, true));
    const outdated = live.filter((p) => revisionOf(p) !== hash);
    if (ds.spec?.updateStrategy?.type !== 'OnDelete') {
      let budget = maxUnavailable - unavailable;
      // A not-ready outdated pod costs nothing to replace.
      for (const p of outdated.filter((x) => !isPodReady(x))) this.api.systemDelete(POD, p);
      for (const p of outdated.filter(isPodReady)) {
        if (budget-- <= 0) break;
        this.api.systemDelete(POD, p);
      }
    }
    const current = this.podsOf(ds).filter((p) => !isTerminating(p) && nodes.includes(p.spec?.nodeName));
    const ready = current.filter(isPodReady).length;
    const status = {
      observedGeneration: ds.metadata.generation,
      desiredNumberScheduled: nodes.length,
      currentNumberScheduled: new Set(current.map((p) => p.spec?.nodeName)).size,
      numberMisscheduled: 0,
      numberReady: ready,
      ...withoutZeros(
        {
          updatedNumberScheduled: current.filter((p) => revisionOf(p) === hash).length,
          numberAvailable: ready,
          numberUnavailable: Math.max(0, nodes.length - ready),
        },
        ['updatedNumberScheduled', 'numberAvailable', 'numberUnavailable'],
      ),
    };
    this.api.setStatus(rt, ds.metadata.namespace, name, status);
  }
}

export { CONTROLLER_MANAGER };
