#!/usr/bin/env node
// `npm run demo`: the gateway with its embedded defaults plus a simulated cluster (the testkit's
// fake Kubernetes API server and fake cluster services on the cluster's NodePorts), walked through
// infra creation → block allocation → scaling → metrics with the `ccg` CLI. Every step prints
// the command that reproduces it. Ctrl-C stops everything; `--exit` stops after the walk.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '5000' },
    'data-dir': { type: 'string', default: path.join(root, '.data', 'demo') },
    exit: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(`Usage: npm run demo -- [--port 5000] [--data-dir .data/demo] [--exit]
Starts the gateway (embedded Postgres under --data-dir), a fake Kubernetes API server and fake
cluster services, then walks infra creation, block allocation, scaling and metrics with ccg.`);
  process.exit(0);
}

const { startFakeKube } = await import(path.join(root, 'packages/testkit/dist/fake-kube/index.js'));
const { startFakeCluster } = await import(path.join(root, 'packages/testkit/dist/fake-cluster.js'));

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s) => console.log(`\n${bold(`== ${s}`)}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The cluster's NodePorts (the gateway's INFRA_NODE_PORTS: the reference ports unless that is
// set): infra creation writes http://127.0.0.1:<port> URLs into the cluster entry, and the fake
// cluster services answer there.
let nodePortOverrides = {};
try {
  nodePortOverrides = JSON.parse(process.env.INFRA_NODE_PORTS || '{}');
} catch {
  console.error('INFRA_NODE_PORTS is not valid JSON');
  process.exit(2);
}
const nodePorts = { controller: 32300, metricsWriter: 32301, blockTransactions: 32302, parameterUpdater: 32303, membershipServer: 30501, grpcProxy: 32000, ...nodePortOverrides };
const NODE_PORTS = [nodePorts.controller, nodePorts.metricsWriter, nodePorts.blockTransactions, nodePorts.parameterUpdater, nodePorts.membershipServer, nodePorts.grpcProxy];
// Where the cluster components would find the management services (GLOBAL_SERVICES_MAP).
const gatewayUrl = `http://127.0.0.1:${opts.port}`;
const GLOBAL_SERVICES = {
  cluster_db_url: gatewayUrl,
  blocks_db_url: gatewayUrl,
  policy_db_url: 'http://127.0.0.1:30102',
  vdag_db_url: 'http://127.0.0.1:30103',
  vdag_controller_db_url: 'http://127.0.0.1:30104',
  global_block_metrics_redis_host: '127.0.0.1',
  global_cluster_metrics_redis_host: '127.0.0.1',
  global_vdag_metrics_redis_host: '127.0.0.1',
};

const dataDir = path.resolve(opts['data-dir']);
await mkdir(dataDir, { recursive: true });
const token = `ccg_demo_${randomBytes(18).toString('base64url')}`;
const cleanups = [];
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

say('Starting the simulated cluster');
const kube = await startFakeKube({ readyDelayMs: 700, deleteDelayMs: 200 });
cleanups.push(() => kube.close());
const kubeconfig = path.join(dataDir, 'kubeconfig');
await writeFile(kubeconfig, kube.kubeconfigYaml('demo-cluster'), { mode: 0o600 });
let services;
try {
  services = await startFakeCluster({ alsoListenOn: NODE_PORTS });
} catch (err) {
  console.error(`cannot listen on the cluster's NodePorts ${NODE_PORTS.join(', ')} on 127.0.0.1 (${err.code ?? err.message}); stop what uses them or move them with INFRA_NODE_PORTS`);
  await stop(1);
}
cleanups.push(() => services.close());
console.log(`fake Kubernetes API server: ${kube.url} (kubeconfig ${path.relative(process.cwd(), kubeconfig)})`);
console.log(`fake cluster services (controller, metrics, membership, ...) on 127.0.0.1:${NODE_PORTS.join(', ')}`);

say(`Starting the gateway on ${gatewayUrl} (embedded Postgres under ${path.relative(process.cwd(), dataDir)})`);
const gateway = spawn(process.execPath, [path.join(root, 'apps/gateway/dist/main.js')], {
  env: {
    ...process.env,
    PORT: opts.port,
    DATA_DIR: dataDir,
    GATEWAY_ADMIN_TOKEN: token,
    GLOBAL_SERVICES_MAP: JSON.stringify(GLOBAL_SERVICES),
    METRICS_PULL_INTERVAL_MS: '2000',
    INFRA_POLL_INITIAL_MS: '100',
    INFRA_POLL_MAX_MS: '500',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
cleanups.push(
  () =>
    new Promise((resolve) => {
      if (gateway.exitCode !== null) return resolve();
      gateway.once('exit', resolve);
      gateway.kill('SIGTERM');
    }),
);
gateway.once('exit', (code) => {
  if (!stopping) {
    console.error(`the gateway exited (${code}) before the demo ended`);
    void stop(1);
  }
});
for (let i = 0; ; i++) {
  const ok = await fetch(`${gatewayUrl}/readyz`).then((r) => r.ok, () => false);
  if (ok) break;
  if (i > 600) {
    console.error('the gateway did not become ready in 60 s');
    await stop(1);
  }
  await sleep(100);
}
console.log(`ready. To use the CLI yourself:\n  export CCG_URL=${gatewayUrl} CCG_TOKEN=${token}`);

const cliEnv = { ...process.env, CCG_URL: gatewayUrl, CCG_TOKEN: token };
/** Runs one ccg command as a user would, showing the command first. */
async function ccg(args, { allowFail = false } = {}) {
  console.log(`\n$ ccg ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const child = spawn(process.execPath, [path.join(root, 'apps/cli/dist/main.js'), ...args], { env: cliEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0 && !allowFail) {
    console.error(`ccg exited ${code}: the demo stops here`);
    await stop(1);
  }
  return code;
}
const rel = (p) => path.relative(process.cwd(), path.join(root, p));

say('1. Register the spec sample cluster (publicHostname 127.0.0.1, NodePort exposure)');
await ccg(['clusters', 'create', rel('examples/demo/cluster-123.json')]);

say('2. Create its infrastructure from the kubeconfig (steps a–f, live)');
await ccg(['infra', 'create', 'cluster-123', '--kubeconfig', path.relative(process.cwd(), kubeconfig), '--wait']);
await ccg(['--json', 'tasks', 'list', '--cluster', 'cluster-123', '--limit', '1']);

say('3. Metrics: the worker pulls them from the cluster\'s metrics service');
for (let i = 0; i < 100; i++) {
  const r = await fetch(`${gatewayUrl}/cluster-metrics/cluster-123`, { headers: { Authorization: `Bearer ${token}` } });
  if (r.ok) break;
  await sleep(200);
}
await ccg(['metrics', 'cluster', 'cluster-123']);

say('4. Allocate the spec sample block (its clusterAllocator rule registered first)');
await ccg(['policies', 'register', rel('examples/demo/yolo-cluster-selector.json')]);
await ccg(['blocks', 'dry-run', rel('examples/demo/block.json')]);
await ccg(['blocks', 'allocate', rel('examples/demo/block.json'), '--wait']);
await ccg(['blocks', 'list']);

say('5. Scale the block by two instances on chosen nodes and GPUs');
await ccg(['blocks', 'scale', 'cluster-123', 'detector-yolo-88', '--instances', '2', '--on', 'node-1:0', 'node-2:1']);

say('6. A pre-check policy at work: scale_block refuses more than 4 new instances');
await ccg(['policies', 'register', rel('examples/demo/scale-limit.json')]);
await ccg(['policies', 'map', 'update', rel('examples/demo/precheck-map.json')]);
await ccg(['blocks', 'scale', 'cluster-123', 'detector-yolo-88', '--instances', '8'], { allowFail: true });
await ccg(['policies', 'decisions', '--action', 'scale_block', '--limit', '3']);

say('7. A cluster whose services are down: the gateway says so (502), it does not hang');
await ccg(['clusters', 'create', rel('examples/demo/cluster-offline.json')]);
await ccg(['metrics', 'cluster', 'cluster-offline', '--live'], { allowFail: true });

say('8. Gateway metrics (Prometheus) and the API description');
const metricsText = await fetch(`${gatewayUrl}/metrics`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.text(), () => '');
console.log(`${metricsText.split('\n').filter((l) => l && !l.startsWith('#')).length} samples at ${gatewayUrl}/metrics; API docs at ${gatewayUrl}/docs; queues at ${gatewayUrl}/admin/queues`);

if (opts.exit) {
  say('Done: stopping');
  await stop(0);
} else {
  say(`Done. The gateway keeps running at ${gatewayUrl}; try more ccg commands (npm run ccg -- --help). Ctrl-C stops it all.`);
}
