import type { ApiServer } from './api-server.js';
import { byKind } from './resources.js';

/** What a fresh cluster already has: system namespaces, nodes, the `kubernetes` Service, default ClusterRoles. */
export function seedCluster(api: ApiServer, nodeNames: string[]): void {
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    api.seed(byKind('Namespace'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  nodeNames.forEach((name, i) => {
    api.seed(byKind('Node'), {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'beta.kubernetes.io/arch': 'amd64',
        },
      },
      spec: { podCIDR: `10.244.${i}.0/24`, podCIDRs: [`10.244.${i}.0/24`] },
      status: {
        capacity: { cpu: '4', memory: '16318504Ki', pods: '110', 'ephemeral-storage': '102626232Ki' },
        allocatable: { cpu: '4', memory: '16216104Ki', pods: '110', 'ephemeral-storage': '94580335255' },
        conditions: [
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
          { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
          { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
          { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
        ],
        addresses: [
          { type: 'InternalIP', address: `192.168.49.${i + 2}` },
          { type: 'Hostname', address: name },
        ],
        nodeInfo: {
          kubeletVersion: 'v1.30.0-fake',
          kubeProxyVersion: 'v1.30.0-fake',
          containerRuntimeVersion: 'containerd://1.7.0',
          operatingSystem: 'linux',
          architecture: 'amd64',
          osImage: 'fake-kube',
          kernelVersion: '6.0.0',
          machineID: '',
          systemUUID: '',
          bootID: '',
        },
      },
    });
  });
  api.seed(byKind('Service'), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  });
  const clusterRole = (name: string, rules: unknown[]) =>
    api.seed(byKind('ClusterRole'), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
      rules,
    });
  clusterRole('cluster-admin', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]);
  clusterRole('admin', [{ apiGroups: ['', 'apps', 'networking.k8s.io', 'rbac.authorization.k8s.io'], resources: ['*'], verbs: ['*'] }]);
  clusterRole('edit', [{ apiGroups: ['', 'apps', 'networking.k8s.io'], resources: ['*'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }]);
  clusterRole('view', [{ apiGroups: ['', 'apps', 'networking.k8s.io'], resources: ['*'], verbs: ['get', 'list', 'watch'] }]);
}
