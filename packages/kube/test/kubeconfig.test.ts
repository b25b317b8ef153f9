import { describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { InputError } from '@ccg/contracts';
import { kubeconfigText, parseKubeconfig, toKubeConfig } from '@ccg/kube';

const sample = () => ({
  apiVersion: 'v1',
  kind: 'Config',
  'current-context': 'target',
  clusters: [
    { name: 'other', cluster: { server: 'https://other.example:6443', 'certificate-authority': '/etc/other/ca.crt' } },
    { name: 'target-cluster', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': Buffer.from('ca').toString('base64') } },
  ],
  users: [
    { name: 'gke-user', user: { exec: { command: 'gke-gcloud-auth-plugin', apiVersion: 'client.authentication.k8s.io/v1beta1' } } },
    { name: 'admin', user: { token: 'secret-token' } },
  ],
  contexts: [
    { name: 'gke', context: { cluster: 'other', user: 'gke-user' } },
    { name: 'target', context: { cluster: 'target-cluster', user: 'admin', namespace: 'ops' } },
  ],
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const strict = { allowExec: false };

function refusal(data: unknown, opts = strict): InputError {
  try {
    parseKubeconfig(data, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected the kubeconfig to be refused');
}

const fieldOf = (e: InputError) => (e.details as { field: string }).field;

describe('parseKubeconfig: accepted forms', () => {
  const yamlText = stringify(sample());
  const jsonText = JSON.stringify(sample());
  it.each([
    ['YAML text', yamlText],
    ['a JSON object', sample()],
    ['JSON text', jsonText],
    ['base64 of YAML', b64(yamlText)],
    ['base64 of JSON', b64(jsonText)],
    ['base64 with line breaks', b64(yamlText).replace(/(.{76})/g, '$1\n')],
  ])('%s is reduced to the current context', (_name, data) => {
    const doc = parseKubeconfig(data, strict);
    expect(doc['current-context']).toBe('target');
    expect(doc.clusters).toEqual([{ name: 'target-cluster', cluster: sample().clusters[1].cluster }]);
    expect(doc.users).toEqual([{ name: 'admin', user: { token: 'secret-token' } }]);
    expect(doc.contexts).toHaveLength(1);
  });

  it('the unused exec user and file paths of other contexts are dropped, not refused', () => {
    const text = kubeconfigText(parseKubeconfig(sample(), strict));
    expect(text).not.toContain('gke-gcloud-auth-plugin');
    expect(text).not.toContain('/etc/other/ca.crt');
  });

  it('builds a client-node KubeConfig for the document alone', () => {
    const kc = toKubeConfig(parseKubeconfig(sample(), strict));
    expect(kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(kc.getCurrentUser()?.token).toBe('secret-token');
    expect(kc.getContexts().map((c) => c.name)).toEqual(['target']);
  });

  it('the sealed text parses back to the same document', () => {
    const doc = parseKubeconfig(b64(yamlText), strict);
    expect(parseKubeconfig(kubeconfigText(doc), strict)).toEqual(doc);
  });
});

describe('parseKubeconfig: refusals name the field', () => {
  it.each([
    ['{}', {}, 'kube_config_data'],
    ['an empty string', '   ', 'kube_config_data'],
    ['a number', 42, 'kube_config_data'],
    ['an array', [sample()], 'kube_config_data'],
    ['garbage text', 'this is: not: a kubeconfig: [', 'kube_config_data'],
    ['a YAML scalar', 'just-a-word', 'kube_config_data'],
    ['the spec example base64 (not a kubeconfig)', 'c3BlY2lhbC1lbmNvZGVkLWt1YmUtY29uZmlnLWRhdGE=', 'kube_config_data'],
  ])('%s', (_name, data, field) => {
    expect(fieldOf(refusal(data))).toBe(field);
  });

  it('missing current-context', () => {
    const { 'current-context': _drop, ...rest } = sample();
    expect(fieldOf(refusal(rest))).toBe('kube_config_data.current-context');
  });

  it('current-context naming no context', () => {
    expect(fieldOf(refusal({ ...sample(), 'current-context': 'nope' }))).toBe('kube_config_data.current-context');
  });

  it('a context naming a missing cluster or user', () => {
    const c = sample();
    c.contexts[1].context.cluster = 'missing';
    expect(fieldOf(refusal(c))).toBe('kube_config_data.contexts[1].context.cluster');
    const u = sample();
    u.contexts[1].context.user = 'missing';
    expect(fieldOf(refusal(u))).toBe('kube_config_data.contexts[1].context.user');
  });

  it('no server, or a server that is not http(s)', () => {
    const c = sample();
    delete (c.clusters[1].cluster as Record<string, unknown>).server;
    expect(fieldOf(refusal(c))).toBe('kube_config_data.clusters[1].cluster.server');
    const f = sample();
    f.clusters[1].cluster.server = 'ftp://x';
    expect(fieldOf(refusal(f))).toBe('kube_config_data.clusters[1].cluster.server');
  });

  const onTarget = (patch: (c: ReturnType<typeof sample>) => void) => {
    const c = sample();
    patch(c);
    return c;
  };

  it.each([
    ['exec', onTarget((c) => ((c.users[1].user as Record<string, unknown>).exec = { command: 'aws' })), 'kube_config_data.users[1].user.exec'],
    ['auth-provider', onTarget((c) => ((c.users[1].user as Record<string, unknown>)['auth-provider'] = { name: 'oidc' })), 'kube_config_data.users[1].user.auth-provider'],
    ['client-certificate path', onTarget((c) => ((c.users[1].user as Record<string, unknown>)['client-certificate'] = '/home/me/.kube/c.crt')), 'kube_config_data.users[1].user.client-certificate'],
    ['client-key path', onTarget((c) => ((c.users[1].user as Record<string, unknown>)['client-key'] = '/home/me/.kube/c.key')), 'kube_config_data.users[1].user.client-key'],
    ['token-file', onTarget((c) => ((c.users[1].user as Record<string, unknown>)['token-file'] = '/var/run/token')), 'kube_config_data.users[1].user.token-file'],
    ['tokenFile', onTarget((c) => ((c.users[1].user as Record<string, unknown>).tokenFile = '/var/run/token')), 'kube_config_data.users[1].user.tokenFile'],
    ['cluster certificate-authority path', onTarget((c) => ((c.clusters[1].cluster as Record<string, unknown>)['certificate-authority'] = '/etc/ca.crt')), 'kube_config_data.clusters[1].cluster.certificate-authority'],
  ])('%s is refused, and allowed with allowExec', (_name, config, field) => {
    expect(fieldOf(refusal(config))).toBe(field);
    expect(fieldOf(refusal(stringify(config)))).toBe(field);
    expect(parseKubeconfig(config, { allowExec: true })['current-context']).toBe('target');
  });

  it('uses the field name it is given', () => {
    expect(fieldOf(refusal({}, { allowExec: false, field: 'secrets.kube_config_data' } as never))).toBe('secrets.kube_config_data');
  });

  it('refusal messages never echo a token', () => {
    const c = sample();
    (c.users[1].user as Record<string, unknown>).exec = { command: 'x' };
    expect(refusal(c).message).not.toContain('secret-token');
  });
});
