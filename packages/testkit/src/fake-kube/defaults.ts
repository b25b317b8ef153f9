import type { KubeObject } from './types.js';
import { isPlainObject } from './types.js';

/** Server-side defaulting of the fields the gateway and its tests look at (fills only what is missing). */

function setDefault<T>(obj: Record<string, any>, key: string, value: T): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

const imageTag = (image: string): string | undefined => {
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (image.includes('@')) return 'digest';
  return colon >= 0 ? image.slice(colon + 1) : undefined;
};

function defaultContainer(c: Record<string, any>): void {
  const tag = typeof c.image === 'string' ? imageTag(c.image) : undefined;
  setDefault(c, 'imagePullPolicy', tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  for (const p of Array.isArray(c.ports) ? c.ports : []) if (isPlainObject(p)) setDefault(p, 'protocol', 'TCP');
}

export function defaultPodSpec(spec: unknown): void {
  if (!isPlainObject(spec)) return;
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['containers', 'initContainers']) {
    for (const c of Array.isArray(spec[list]) ? spec[list] : []) if (isPlainObject(c)) defaultContainer(c);
  }
}

function defaultTemplate(spec: Record<string, any>): void {
  if (isPlainObject(spec.template)) {
    setDefault(spec.template, 'metadata', {});
    defaultPodSpec(spec.template.spec);
  }
}

export function applyDefaults(obj: KubeObject): void {
  const spec = isPlainObject(obj.spec) ? obj.spec : undefined;
  switch (obj.kind) {
    case 'Namespace':
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
      obj.spec = { finalizers: ['kubernetes'], ...(spec ?? {}) };
      break;
    case 'Pod':
      defaultPodSpec(spec);
      break;
    case 'Deployment':
      if (!spec) return;
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      setDefault(spec, 'strategy', { type: 'RollingUpdate' });
      if (spec.strategy?.type === 'RollingUpdate') setDefault(spec.strategy, 'rollingUpdate', { maxUnavailable: '25%', maxSurge: '25%' });
      defaultTemplate(spec);
      break;
    case 'ReplicaSet':
      if (!spec) return;
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec);
      break;
    case 'StatefulSet':
      if (!spec) return;
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'podManagementPolicy', 'OrderedReady');
      setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
      defaultTemplate(spec);
      break;
    case 'DaemonSet':
      if (!spec) return;
      setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      setDefault(spec, 'revisionHistoryLimit', 10);
      defaultTemplate(spec);
      break;
    case 'Service': {
      obj.spec = spec ?? {};
      const s = obj.spec;
      setDefault(s, 'type', 'ClusterIP');
      setDefault(s, 'sessionAffinity', 'None');
      if (s.type !== 'ExternalName') {
        setDefault(s, 'ipFamilies', ['IPv4']);
        setDefault(s, 'ipFamilyPolicy', 'SingleStack');
        setDefault(s, 'internalTrafficPolicy', 'Cluster');
      }
      if (s.type === 'NodePort' || s.type === 'LoadBalancer') setDefault(s, 'externalTrafficPolicy', 'Cluster');
      for (const p of Array.isArray(s.ports) ? s.ports : []) {
        if (!isPlainObject(p)) continue;
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port);
      }
      break;
    }
    case 'Secret':
      setDefault(obj, 'type', 'Opaque');
      break;
  }
}
