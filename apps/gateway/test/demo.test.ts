import { describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@ccg/db';
import { repoRoot } from '@ccg/testkit';

// The demo starts an embedded Postgres and walks every stage: minutes on a loaded machine.
jest.setTimeout(300_000);

/** Sum of a metric family's samples whose name (with suffix) and labels match. */
function total(exposition: string, sample: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${sample}{`) && !line.startsWith(`${sample} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** `n` distinct ports in the NodePort range (30000–32767) that nothing listens on. */
async function freeNodePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const port = 30000 + Math.floor(Math.random() * 2768);
    if (!ports.includes(port) && (await canListen(port))) ports.push(port);
  }
  return ports;
}

describe('npm run demo', () => {
  it('walks infra creation, allocation, scaling and metrics with ccg; /metrics then shows every family with samples', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccg-demo-'));
    // NodePorts of its own, so a demo running on this machine (or another test run) is no obstacle.
    const [controller, metricsWriter, blockTransactions, parameterUpdater, monitor, health, membershipServer, grpcProxy] = await freeNodePorts(8);
    const nodePorts = { controller, metricsWriter, blockTransactions, parameterUpdater, monitor, health, membershipServer, grpcProxy };
    const demo = spawn(process.execPath, [path.join(repoRoot(), 'scripts/demo.mjs'), '--port', String(port), '--data-dir', dataDir], {
      env: { ...process.env, INFRA_NODE_PORTS: JSON.stringify(nodePorts) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    demo.stdout!.on('data', (d) => (out += d));
    demo.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (out.includes('== Done.')) {
            clearInterval(check);
            resolve();
          }
          if (demo.exitCode !== null) {
            clearInterval(check);
            reject(new Error(`the demo exited ${demo.exitCode}:\n${out.slice(-3000)}`));
          }
        }, 200);
      });
      // Every stage ran through ccg and printed the command that reproduces it.
      for (const cmd of [
        '$ ccg clusters create examples/demo/cluster-123.json',
        '$ ccg infra create cluster-123 --kubeconfig',
        '$ ccg blocks allocate examples/demo/block.json --wait',
        '$ ccg blocks scale cluster-123 detector-yolo-88 --instances 2',
        '$ ccg metrics cluster cluster-123',
      ]) expect(out).toContain(cmd);
      expect(out).toMatch(/task [0-9a-f-]{36} completed[\s\S]*task [0-9a-f-]{36} completed/);
      expect(out).toContain('reason: at most 4 new instances per request, asked for 8');

      const token = /CCG_TOKEN=(\S+)/.exec(out)![1];
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.text());
      expect(total(metrics, 'ccg_http_request_duration_seconds_count')).toBeGreaterThan(0);
      expect(total(metrics, 'ccg_job_duration_seconds_count', { task_type: 'cluster_infra_creation', outcome: 'completed' })).toBeGreaterThan(0);
      expect(total(metrics, 'ccg_job_duration_seconds_count', { task_type: 'block_allocation', outcome: 'completed' })).toBeGreaterThan(0);
      expect(total(metrics, 'ccg_precheck_evaluations_total', { action: 'scale_block' })).toBeGreaterThan(0);
      expect(total(metrics, 'ccg_precheck_denials_total', { action: 'scale_block' })).toBeGreaterThan(0);
      expect(total(metrics, 'ccg_precheck_duration_seconds_count', { action: 'scale_block' })).toBeGreaterThan(0);
      expect(total(metrics, 'ccg_upstream_request_duration_seconds_count')).toBeGreaterThan(0);
      expect(total(metrics, 'ccg_upstream_errors_total')).toBeGreaterThan(0);
      // Queue depth is a gauge by lane and state: every lane reports, and the store is up.
      expect(metrics).toMatch(/^ccg_queue_jobs\{[^}]*lane="infra"[^}]*\} \d+/m);
      expect(total(metrics, 'ccg_queue_up')).toBeGreaterThan(0);
    } finally {
      demo.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
