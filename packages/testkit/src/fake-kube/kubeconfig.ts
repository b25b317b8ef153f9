import { stringify } from 'yaml';

/**
 * A kubeconfig with one cluster (server = the fake's URL), one token user and one context.
 * client-node 1.4 refuses a plain-HTTP server unless the cluster says insecure-skip-tls-verify.
 */
export function kubeconfigFor(url: string, token: string, contextName = 'fake-kube'): Record<string, unknown> {
  const cluster = `${contextName}-cluster`;
  const user = `${contextName}-admin`;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: cluster, cluster: { server: url, ...(url.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {}) } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: contextName, context: { cluster, user, namespace: 'default' } }],
    'current-context': contextName,
  };
}

export const kubeconfigYamlFor = (url: string, token: string, contextName?: string): string => stringify(kubeconfigFor(url, token, contextName));
