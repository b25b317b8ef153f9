import { GROUPS, RESOURCE_TYPES, verbsOf, type ResourceType } from './resources.js';

/** Discovery documents (`/api`, `/apis`, `/apis/<group>[/<version>]`, `/version`), as the real API server writes them. */

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(group: string): Record<string, unknown> {
  const gv = { groupVersion: `${group}/v1`, version: 'v1' };
  return { name: group, versions: [gv], preferredVersion: gv };
}

export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(groupDoc) };
}

export function apiGroup(group: string): Record<string, unknown> | undefined {
  return GROUPS.includes(group) ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group) } : undefined;
}

function resourceEntries(r: ResourceType): Array<Record<string, unknown>> {
  const main = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: verbsOf(r),
    ...(r.shortNames ? { shortNames: r.shortNames } : {}),
  };
  const sub = (name: string, verbs: string[]) => ({ name: `${r.plural}/${name}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs });
  // The main resource comes first: KubernetesObjectApi picks the first entry with the wanted kind.
  return r.hasStatus && !r.readOnly ? [main, sub('status', ['get', 'patch', 'update'])] : [main];
}

/** APIResourceList for `v1` (group '') or `<group>/v1`; undefined for an unknown group version. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  if (version !== 'v1' || (group !== '' && !GROUPS.includes(group))) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: RESOURCE_TYPES.filter((r) => r.group === group).flatMap(resourceEntries),
  };
}

export function versionInfo(): Record<string, unknown> {
  return {
    major: '1',
    minor: '30',
    gitVersion: 'v1.30.0-fake',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2024-04-17T00:00:00Z',
    goVersion: 'go1.22.2',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
