#!/usr/bin/env node
// `npm run fake-cluster`: the testkit's fake Kubernetes API server as a standalone process, with
// a kubeconfig for it, so infra creation can be tried by hand (ccg infra create, the spec's
// sample scripts) without a real cluster. Workloads "become ready" after --ready-delay-ms;
// --fail-image makes an image never ready (its pods wait with the given reason).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const usage = `Usage: npm run fake-cluster -- [options]
  --port N               port to listen on (default 6443; 0 = any free port)
  --host HOST            address to listen on (default 127.0.0.1)
  --kubeconfig PATH      where to write the kubeconfig (default .data/fake-cluster/kubeconfig)
  --ready-delay-ms N     workloads become ready this long after create/update (default 2000)
  --delete-delay-ms N    deleted objects linger this long (default 1000)
  --fail-image IMG=WHY   pods of image IMG never become ready and wait with reason WHY
                         (e.g. --fail-image redis:latest=ImagePullBackOff); repeatable
  --nodes a,b,c          node names (default node-1,node-2)
  --token TOKEN          bearer token to require (default: a random one)
  --verbose              print every request received
  --help`;

function fail(message) {
  console.error(`fake-cluster: ${message}\n\n${usage}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '6443' },
      host: { type: 'string', default: '127.0.0.1' },
      kubeconfig: { type: 'string', default: path.join('.data', 'fake-cluster', 'kubeconfig') },
      'ready-delay-ms': { type: 'string', default: '2000' },
      'delete-delay-ms': { type: 'string', default: '1000' },
      'fail-image': { type: 'string', multiple: true, default: [] },
      nodes: { type: 'string' },
      token: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  fail(e.message);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}

function count(name) {
  const raw = args[name];
  if (!/^\d+$/.test(raw)) fail(`--${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

const port = count('port');
if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
const failingImages = {};
for (const spec of args['fail-image']) {
  const at = spec.lastIndexOf('=');
  if (at <= 0 || at === spec.length - 1) fail(`--fail-image must be IMAGE=REASON, got "${spec}"`);
  failingImages[spec.slice(0, at)] = { reason: spec.slice(at + 1), message: `Back-off pulling image "${spec.slice(0, at)}"` };
}
const nodes = args.nodes ? args.nodes.split(',').map((n) => n.trim()).filter(Boolean) : undefined;

// The fake's own entry of the built testkit: the package index also loads the gateway, the
// worker and embedded Postgres, which takes seconds and is not needed here.
const testkit = path.join(root, 'packages', 'testkit', 'dist', 'fake-kube', 'index.js');
let startFakeKube;
try {
  ({ startFakeKube } = await import(pathToFileURL(testkit).href));
} catch (e) {
  console.error(`fake-cluster: cannot load ${path.relative(root, testkit)} (${e.message}); run \`npm run build\` first`);
  process.exit(1);
}

let kube;
try {
  kube = await startFakeKube({
    port,
    host: args.host,
    readyDelayMs: count('ready-delay-ms'),
    deleteDelayMs: count('delete-delay-ms'),
    failingImages,
    ...(nodes ? { nodes } : {}),
    ...(args.token ? { token: args.token } : {}),
  });
} catch (e) {
  console.error(`fake-cluster: cannot listen on ${args.host}:${port}: ${e.message}`);
  process.exit(1);
}

const kubeconfigPath = path.resolve(root, args.kubeconfig);
mkdirSync(path.dirname(kubeconfigPath), { recursive: true });
writeFileSync(kubeconfigPath, kube.kubeconfigYaml('fake-cluster'), { mode: 0o600 });
chmodSync(kubeconfigPath, 0o600); // also when the file already existed with a wider mode

console.log(`fake Kubernetes API server listening on ${kube.url}`);
console.log(`kubeconfig written to ${kubeconfigPath}`);
if (Object.keys(failingImages).length) console.log(`failing images: ${Object.entries(failingImages).map(([i, f]) => `${i} (${f.reason})`).join(', ')}`);
console.log(`try: ccg infra create cluster-123 --kubeconfig ${kubeconfigPath} --wait`);
console.log('Ctrl-C stops it.');

// The request log is for tests; here it is printed (--verbose) and dropped so it cannot grow.
const drain = setInterval(() => {
  const seen = kube.requests.splice(0);
  if (args.verbose) for (const r of seen) console.log(`${r.method} ${r.path}${r.fieldManager ? ` (fieldManager=${r.fieldManager})` : ''}`);
}, 200);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  clearInterval(drain);
  await kube.close();
  console.log(`fake-cluster stopped (${signal})`);
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
