import type { FieldError } from './errors.js';
import { labelSelectorObjectMatcher } from './selectors.js';
import type { KubeObject } from './types.js';
import { isPlainObject, jsonEqual } from './types.js';

/**
 * The API server's validation, for what matters to the gateway: names, labels, workload
 * selectors and templates, Service ports (allocation of node ports is in service-network.ts),
 * Ingress backends, RBAC role references, and the immutable fields of an update.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

function validateName(kind: string, name: string, errors: FieldError[]): void {
  const field = 'metadata.name';
  if (kind === 'Service') {
    if (!DNS1035_LABEL.test(name) || name.length > 63) errors.push({ field, type: 'Invalid', value: name, detail: DNS1035_MSG });
  } else if (kind === 'Namespace') {
    if (!DNS1123_LABEL.test(name) || name.length > 63) errors.push({ field, type: 'Invalid', value: name, detail: LABEL_MSG });
  } else if (['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(kind)) {
    if (name === '.' || name === '..' || /[/%]/.test(name)) errors.push({ field, type: 'Invalid', value: name, detail: 'may not contain "/" or "%"' });
  } else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    errors.push({ field, type: 'Invalid', value: name, detail: SUBDOMAIN_MSG });
  }
}

export function validateLabels(labels: unknown, field: string, errors: FieldError[]): void {
  if (labels === undefined || labels === null) return;
  if (!isPlainObject(labels)) {
    errors.push({ field, type: 'Invalid', value: labels, detail: 'must be a map of strings' });
    return;
  }
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if ((prefix !== undefined && (!DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253)) || !QUALIFIED_NAME.test(name) || name.length > 63) {
      errors.push({ field, type: 'Invalid', value: key, detail: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character" });
    }
    if (typeof value !== 'string' || !LABEL_VALUE.test(value) || value.length > 63) {
      errors.push({
        field: `${field}`,
        type: 'Invalid',
        value,
        detail: "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
      });
    }
  }
}

/** IANA_SVC_NAME, the rule for port names. */
function validPortName(name: string): boolean {
  return name.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes('--');
}

function validatePodSpec(spec: unknown, field: string, errors: FieldError[]): void {
  if (!isPlainObject(spec)) {
    errors.push({ field: `${field}.containers`, type: 'Required' });
    return;
  }
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    errors.push({ field: `${field}.containers`, type: 'Required' });
    return;
  }
  const seen = new Set<string>();
  containers.forEach((c: any, i: number) => {
    const at = `${field}.containers[${i}]`;
    if (!isPlainObject(c) || typeof c.name !== 'string' || c.name === '') errors.push({ field: `${at}.name`, type: 'Required' });
    else if (!DNS1123_LABEL.test(c.name) || c.name.length > 63) errors.push({ field: `${at}.name`, type: 'Invalid', value: c.name, detail: LABEL_MSG });
    else if (seen.has(c.name)) errors.push({ field: `${at}.name`, type: 'Duplicate', value: c.name });
    else seen.add(c.name);
    if (!isPlainObject(c) || typeof c.image !== 'string' || c.image.trim() === '') errors.push({ field: `${at}.image`, type: 'Required' });
    for (const [j, p] of (Array.isArray(c?.ports) ? c.ports : []).entries()) {
      const port = p?.containerPort;
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        errors.push({ field: `${at}.ports[${j}].containerPort`, type: 'Invalid', value: port, detail: 'must be between 1 and 65535, inclusive' });
      }
      if (p?.name !== undefined && !validPortName(String(p.name))) {
        errors.push({ field: `${at}.ports[${j}].name`, type: 'Invalid', value: p.name, detail: 'must be no more than 15 characters' });
      }
    }
  });
}

function validateWorkload(obj: KubeObject, errors: FieldError[]): void {
  const spec = obj.spec;
  if (!isPlainObject(spec)) {
    errors.push({ field: 'spec.selector', type: 'Required' }, { field: 'spec.template.spec.containers', type: 'Required' });
    return;
  }
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0)) {
    errors.push({ field: 'spec.replicas', type: 'Invalid', value: spec.replicas, detail: 'must be greater than or equal to 0' });
  }
  const selector = spec.selector;
  const empty = !isPlainObject(selector) || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
  if (!isPlainObject(selector)) errors.push({ field: 'spec.selector', type: 'Required' });
  else if (empty) errors.push({ field: 'spec.selector', type: 'Invalid', value: selector, detail: 'empty selector is invalid for deployment' });
  const template = spec.template;
  const templateLabels = isPlainObject(template) && isPlainObject(template.metadata) ? template.metadata.labels : undefined;
  validateLabels(templateLabels, 'spec.template.metadata.labels', errors);
  if (!empty && !labelSelectorObjectMatcher(selector)(templateLabels)) {
    errors.push({ field: 'spec.template.metadata.labels', type: 'Invalid', value: templateLabels ?? {}, detail: '`selector` does not match template `labels`' });
  }
  validatePodSpec(isPlainObject(template) ? template.spec : undefined, 'spec.template.spec', errors);
  if (obj.kind !== 'StatefulSet' && isPlainObject(template?.spec) && template.spec.restartPolicy !== undefined && template.spec.restartPolicy !== 'Always') {
    errors.push({ field: 'spec.template.spec.restartPolicy', type: 'NotSupported', value: template.spec.restartPolicy, detail: 'supported values: "Always"' });
  }
}

function validateServiceShape(obj: KubeObject, errors: FieldError[]): void {
  const spec = isPlainObject(obj.spec) ? obj.spec : {};
  const type = spec.type ?? 'ClusterIP';
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type)) {
    errors.push({ field: 'spec.type', type: 'NotSupported', value: type, detail: 'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"' });
    return;
  }
  if (type === 'ExternalName') {
    if (!spec.externalName) errors.push({ field: 'spec.externalName', type: 'Required' });
    return;
  }
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && !(headless && type === 'ClusterIP')) errors.push({ field: 'spec.ports', type: 'Required' });
  const names = new Set<string>();
  const seenPorts = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const at = `spec.ports[${i}]`;
    if (ports.length > 1 && (typeof p?.name !== 'string' || p.name === '')) errors.push({ field: `${at}.name`, type: 'Required' });
    else if (typeof p?.name === 'string' && p.name !== '') {
      if (!validPortName(p.name)) errors.push({ field: `${at}.name`, type: 'Invalid', value: p.name, detail: 'must be no more than 15 characters' });
      if (names.has(p.name)) errors.push({ field: `${at}.name`, type: 'Duplicate', value: p.name });
      names.add(p.name);
    }
    if (!Number.isInteger(p?.port) || p.port < 1 || p.port > 65535) {
      errors.push({ field: `${at}.port`, type: 'Invalid', value: p?.port, detail: 'must be between 1 and 65535, inclusive' });
    }
    const key = `${p?.port}/${p?.protocol ?? 'TCP'}`;
    if (seenPorts.has(key)) errors.push({ field: `${at}`, type: 'Duplicate', value: { port: p?.port, protocol: p?.protocol ?? 'TCP' } });
    seenPorts.add(key);
    if (p?.nodePort !== undefined && p.nodePort !== 0 && type === 'ClusterIP') {
      errors.push({ field: `${at}.nodePort`, type: 'Forbidden', detail: "may not be used when `type` is 'ClusterIP'" });
    }
  });
}

function validateIngress(obj: KubeObject, errors: FieldError[]): void {
  const spec = isPlainObject(obj.spec) ? obj.spec : {};
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (!spec.defaultBackend && rules.length === 0) {
    errors.push({ field: 'spec', type: 'Invalid', value: '', detail: 'either `defaultBackend` or `rules` must be specified' });
  }
  rules.forEach((r: any, i: number) => {
    (r?.http?.paths ?? []).forEach((p: any, j: number) => {
      const at = `spec.rules[${i}].http.paths[${j}]`;
      if (!p?.pathType) errors.push({ field: `${at}.pathType`, type: 'Required', detail: 'pathType must be specified' });
      if (!p?.backend?.service && !p?.backend?.resource) errors.push({ field: `${at}.backend`, type: 'Invalid', value: '', detail: 'must specify a backend' });
    });
  });
}

function validateBinding(obj: KubeObject, errors: FieldError[]): void {
  const ref = obj.roleRef;
  if (!isPlainObject(ref)) {
    errors.push({ field: 'roleRef.kind', type: 'Required' }, { field: 'roleRef.name', type: 'Required' });
    return;
  }
  if (!ref.name) errors.push({ field: 'roleRef.name', type: 'Required' });
  const allowed = obj.kind === 'ClusterRoleBinding' ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!allowed.includes(ref.kind)) errors.push({ field: 'roleRef.kind', type: 'NotSupported', value: ref.kind ?? '', detail: `supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` });
  if (ref.apiGroup !== 'rbac.authorization.k8s.io') errors.push({ field: 'roleRef.apiGroup', type: 'NotSupported', value: ref.apiGroup ?? '', detail: 'supported values: "rbac.authorization.k8s.io"' });
  (Array.isArray(obj.subjects) ? obj.subjects : []).forEach((s: any, i: number) => {
    if (!s?.kind) errors.push({ field: `subjects[${i}].kind`, type: 'Required' });
    if (!s?.name) errors.push({ field: `subjects[${i}].name`, type: 'Required' });
    if (s?.kind === 'ServiceAccount' && !s.namespace && obj.kind === 'ClusterRoleBinding') errors.push({ field: `subjects[${i}].namespace`, type: 'Required' });
  });
}

const STATEFULSET_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function validateUpdate(obj: KubeObject, old: KubeObject, errors: FieldError[]): void {
  if (['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].includes(obj.kind) && !jsonEqual(obj.spec?.selector, old.spec?.selector)) {
    errors.push({ field: 'spec.selector', type: 'Invalid', value: obj.spec?.selector, detail: 'field is immutable' });
  }
  if (obj.kind === 'StatefulSet') {
    const strip = (s: any) => Object.fromEntries(Object.entries(s ?? {}).filter(([k]) => !STATEFULSET_MUTABLE.includes(k)));
    if (!jsonEqual(strip(obj.spec), strip(old.spec))) {
      errors.push({
        field: 'spec',
        type: 'Forbidden',
        detail: "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      });
    }
  }
  if ((obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') && !jsonEqual(obj.roleRef, old.roleRef)) {
    errors.push({ field: 'roleRef', type: 'Invalid', value: obj.roleRef, detail: 'cannot change roleRef' });
  }
  if (obj.kind === 'Service' && old.spec?.clusterIP && obj.spec?.clusterIP && obj.spec.clusterIP !== old.spec.clusterIP) {
    errors.push({ field: 'spec.clusterIPs[0]', type: 'Invalid', value: obj.spec?.clusterIP, detail: 'may not change once set' });
  }
}

/** Field errors of `obj` (about to be stored; `old` on update). Empty = valid. */
export function validateObject(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const name = obj.metadata.name;
  if (!name) errors.push({ field: 'metadata.name', type: 'Required', detail: 'name or generateName is required' });
  else validateName(obj.kind, name, errors);
  validateLabels(obj.metadata.labels, 'metadata.labels', errors);
  switch (obj.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
      validateWorkload(obj, errors);
      break;
    case 'Pod':
      validatePodSpec(obj.spec, 'spec', errors);
      break;
    case 'Service':
      validateServiceShape(obj, errors);
      break;
    case 'Ingress':
      validateIngress(obj, errors);
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      validateBinding(obj, errors);
      break;
  }
  if (old) validateUpdate(obj, old, errors);
  return errors;
}
