import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(180_000);
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CREATION_STEPS } from '@ccg/kube';
import { sampleCluster, startFakeKube, startTestGateway, type FakeKube, type TestGateway } from '@ccg/testkit';
import { runCcg } from './lib/run-ccg.js';

const GLOBALS = Object.fromEntries(
  ['global_block_metrics_redis_host', 'global_cluster_metrics_redis_host', 'global_vdag_metrics_redis_host', 'policy_db_url', 'blocks_db_url', 'cluster_db_url', 'vdag_db_url', 'vdag_controller_db_url'].map((k) => [k, `http://${k.replace(/_/g, '-')}.example.net`]),
);

describe('ccg infra against a gateway and the fake Kubernetes API server', () => {
  let gw: TestGateway;
  let kube: FakeKube;
  let kubeconfig: string;
  beforeAll(async () => {
    kube = await startFakeKube({ readyDelayMs: 200, deleteDelayMs: 50 });
    gw = await startTestGateway({ env: { GLOBAL_SERVICES_MAP: JSON.stringify(GLOBALS), INFRA_POLL_INITIAL_MS: '50', INFRA_POLL_MAX_MS: '200', INFRA_STEP_TIMEOUT_MS: '5000' } });
    kubeconfig = path.join(await mkdtemp(path.join(tmpdir(), 'ccg-infra-')), 'kubeconfig');
    await writeFile(kubeconfig, kube.kubeconfigYaml(), { mode: 0o600 });
    for (const id of ['cluster-123', 'cluster-bad']) {
      const c = sampleCluster(id) as any;
      expect((await gw.request('POST', '/clusters/create', { ...c, config: { ...c.config, useGateway: false, publicHostname: 'gpu.example.net' } })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await gw.close();
    await kube.close();
  });

  it('infra create --wait shows each step complete and exits 0; infra remove --wait too', async () => {
    const created = await runCcg(gw, ['infra', 'create', 'cluster-123', '--kubeconfig', kubeconfig, '--wait']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    for (const step of CREATION_STEPS) expect(created.stdout).toMatch(new RegExp(`${step} \\(\\d+\\.\\d s\\)`));
    expect(created.stdout).toMatch(/task [0-9a-f-]{36} completed/);
    const cluster = (await gw.request('GET', '/clusters/read/cluster-123')).body.data;
    expect(Object.keys(cluster.config.urlMap)).toHaveLength(6);

    const removed = await runCcg(gw, ['--json', 'infra', 'remove', 'cluster-123', '--kubeconfig', kubeconfig, '--wait']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ task_type: 'cluster_infra_removal', task_status: 'completed' });
  });

  it('a failing image: exit code 1 naming the failed step and the pod reason', async () => {
    kube.failImage(gw.config.infra.images.metricsCollector, 'ImagePullBackOff');
    try {
      const run = await runCcg(gw, ['infra', 'create', 'cluster-bad', '--kubeconfig', kubeconfig, '--wait']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/failed at step metrics-collector: .*ImagePullBackOff/);
    } finally {
      kube.clearFailures();
    }
  });

  it('without --wait prints the task id; a missing kubeconfig file is a usage error', async () => {
    const missing = await runCcg(gw, ['infra', 'create', 'cluster-123', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read kubeconfig \/nonexistent\/kubeconfig/);
    const started = await runCcg(gw, ['infra', 'remove', 'cluster-bad', '--kubeconfig', kubeconfig]);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/task [0-9a-f-]{36} scheduled \(cluster_infra_removal\); follow it with: ccg tasks watch/);
  });
});
