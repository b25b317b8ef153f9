import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '../src/index.js';

/** `node scripts/fake-cluster.mjs` (behind `npm run fake-cluster`) as a child process; uses the build. */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'fake-cluster-'));
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[]): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [path.join(root, 'scripts/fake-cluster.mjs'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

describe('npm run fake-cluster', () => {
  it('writes a usable kubeconfig (mode 0600), serves client-node, and stops cleanly on SIGTERM', async () => {
    const kubeconfigPath = path.join(dir, 'nested', 'kubeconfig');
    const run = start(['--port', '0', '--kubeconfig', kubeconfigPath, '--ready-delay-ms', '50', '--fail-image', 'bad:1=ErrImagePull']);
    child = run.proc;
    await waitFor(async () => run.output(), (o) => o.includes('Ctrl-C stops it.') || run.proc.exitCode !== null, 20_000, 50);
    const out = run.output();
    expect(out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain(`kubeconfig written to ${kubeconfigPath}`);
    expect(out).toContain(`ccg infra create cluster-123 --kubeconfig ${kubeconfigPath} --wait`);
    expect(statSync(kubeconfigPath).mode & 0o777).toBe(0o600);

    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(kubeconfigPath, 'utf8'));
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('default');
    const labels = { app: 'bad' };
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: { metadata: { name: 'bad' }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'bad:1' }] } } } },
    });
    const pods = await waitFor(
      () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=bad' }),
      (l) => l.items[0]?.status?.containerStatuses?.[0].state?.waiting?.reason === 'ErrImagePull',
      10_000,
      25,
    );
    expect(pods.items[0].status?.phase).toBe('Pending');

    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('fake-cluster stopped (SIGTERM)');
  });

  it('refuses bad options with a usage message', async () => {
    const run = start(['--fail-image', 'no-reason', '--kubeconfig', path.join(dir, 'unused')]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('--fail-image must be IMAGE=REASON');
  });
});
