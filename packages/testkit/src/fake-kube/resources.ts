/** The resource types the fake API server serves, as its discovery documents describe them. */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Has a `status` owned by the server: writes to the main resource keep it, `/status` writes only it. */
  hasStatus: boolean;
  /** metadata.generation is kept and bumped when `spec` changes. */
  hasGeneration: boolean;
  /** Read-only for clients (nodes are the fake's own). */
  readOnly?: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const rt = (
  group: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType => ({
  group,
  version: 'v1',
  plural,
  singular: kind.toLowerCase(),
  kind,
  namespaced,
  hasStatus: false,
  hasGeneration: false,
  ...extra,
});

const workload = { hasStatus: true, hasGeneration: true };

export const RESOURCE_TYPES: readonly ResourceType[] = [
  rt('', 'namespaces', 'Namespace', false, { shortNames: ['ns'], hasStatus: true }),
  rt('', 'nodes', 'Node', false, { shortNames: ['no'], hasStatus: true, readOnly: true }),
  rt('', 'pods', 'Pod', true, { shortNames: ['po'], hasStatus: true }),
  rt('', 'services', 'Service', true, { shortNames: ['svc'], hasStatus: true }),
  rt('', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  rt('', 'secrets', 'Secret', true),
  rt('', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  rt('apps', 'deployments', 'Deployment', true, { shortNames: ['deploy'], ...workload }),
  rt('apps', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], ...workload }),
  rt('apps', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], ...workload }),
  rt('apps', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], ...workload }),
  rt('networking.k8s.io', 'ingresses', 'Ingress', true, { shortNames: ['ing'], ...workload }),
  rt('networking.k8s.io', 'ingressclasses', 'IngressClass', false),
  rt('rbac.authorization.k8s.io', 'roles', 'Role', true),
  rt('rbac.authorization.k8s.io', 'rolebindings', 'RoleBinding', true),
  rt('rbac.authorization.k8s.io', 'clusterroles', 'ClusterRole', false),
  rt('rbac.authorization.k8s.io', 'clusterrolebindings', 'ClusterRoleBinding', false),
];

export const GROUPS: readonly string[] = [...new Set(RESOURCE_TYPES.map((r) => r.group).filter((g) => g !== ''))];

export const apiVersionOf = (r: ResourceType): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** `deployments.apps`, `services`: how the API server names a resource in messages. */
export const qualifiedResource = (r: ResourceType): string => (r.group ? `${r.plural}.${r.group}` : r.plural);

export const verbsOf = (r: ResourceType): string[] => (r.readOnly ? ['get', 'list', 'watch'] : ALL_VERBS);

export function findByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** By Kind (`Deployment`), plural (`deployments`), singular or short name, case-insensitively. */
export function findByKindOrName(kindOrName: string): ResourceType | undefined {
  const k = kindOrName.toLowerCase();
  return RESOURCE_TYPES.find(
    (r) => r.kind.toLowerCase() === k || r.plural === k || r.singular === k || (r.shortNames ?? []).includes(k),
  );
}

export const byKind = (kind: string): ResourceType => {
  const r = RESOURCE_TYPES.find((x) => x.kind === kind);
  if (!r) throw new Error(`fake-kube: unknown kind ${kind}`);
  return r;
};
