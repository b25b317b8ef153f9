import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(180_000);
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, startTestGateway, type TestGateway } from '@ccg/testkit';
import { infraEnv, registerCluster, waitForTask } from './infra/helpers.js';

const run = promisify(execFile);

/** `npm run fake-cluster`'s script, as a person would start it; resolves once the kubeconfig is written. */
async function startFakeClusterScript(kubeconfig: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [path.join(repoRoot(), 'scripts/fake-cluster.mjs'), '--port', '0', '--kubeconfig', kubeconfig, '--ready-delay-ms', '100', '--delete-delay-ms', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`fake-cluster did not start: ${out}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('kubeconfig written to')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.on('exit', (code) => reject(new Error(`fake-cluster exited ${code}: ${out}`)));
  });
  return proc;
}

/** The spec's sample script pointed at this gateway: only the URL differs from examples/spec-scripts. */
async function specScript(dir: string, name: string, gatewayUrl: string): Promise<string> {
  const source = await readFile(path.join(repoRoot(), 'examples/spec-scripts', name), 'utf8');
  expect(source).toContain('http://localhost:5000/');
  const file = path.join(dir, name);
  await writeFile(file, source.replace('http://localhost:5000/', `${gatewayUrl}/`));
  return file;
}

describe("the spec's sample Python scripts against a running gateway and npm run fake-cluster", () => {
  let gw: TestGateway;
  let fake: ChildProcess;
  let dir: string;
  let kubeconfig: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ccg-spec-scripts-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    fake = await startFakeClusterScript(kubeconfig);
    // The scripts send no credentials: the trusted-network mode.
    gw = await startTestGateway({ authDisabled: true, env: infraEnv() });
    await registerCluster(gw, 'cluster-123');
  });
  afterAll(async () => {
    await gw.close();
    fake.kill('SIGTERM');
  });

  it('create_cluster_infra.py prints "scheduled successfully" and the task completes; so does remove_cluster_infra.py', async () => {
    const create = await run('python3', [await specScript(dir, 'create_cluster_infra.py', gw.url), 'cluster-123', '--config', kubeconfig]);
    expect(create.stdout).toMatch(/^Cluster creation scheduled successfully: /);
    const createId = /'task_id': '([0-9a-f-]{36})'/.exec(create.stdout)?.[1];
    expect(createId).toBeDefined();
    const created = await waitForTask(gw, createId!);
    expect([created.task_status, created.task_status_data.error]).toEqual(['completed', undefined]);
    const cluster = (await gw.request('GET', '/clusters/read/cluster-123')).body.data;
    expect(Object.keys(cluster.config.urlMap)).toHaveLength(6);

    const remove = await run('python3', [await specScript(dir, 'remove_cluster_infra.py', gw.url), 'cluster-123', '--config', kubeconfig]);
    expect(remove.stdout).toMatch(/^Cluster removal scheduled successfully: /);
    const removeId = /'task_id': '([0-9a-f-]{36})'/.exec(remove.stdout)?.[1];
    const removed = await waitForTask(gw, removeId!);
    expect([removed.task_status, removed.task_status_data.error]).toEqual(['completed', undefined]);
    expect((await gw.request('GET', '/clusters/read/cluster-123')).body.data.config.urlMap ?? {}).toEqual({});
  });
});
