/**
 * Keeps the deployment files honest without Docker or a cluster: infra/k8s (through its
 * kustomization), docker-compose.yml and infra/Dockerfile are parsed, each gateway container's
 * environment is resolved the way Kubernetes / Compose would and loaded through loadConfig, and
 * ports, probes, grace periods and security settings are checked against the loaded values.
 */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node';
import { ConfigError, loadConfig, type Config } from '@ccg/config';
import { actionMapSchema, validate } from '@ccg/contracts';
import { REQUIRED_GLOBAL_SERVICES } from '@ccg/kube';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Obj = Record<string, any>;
type Env = Record<string, string>;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const k8sDir = path.join(root, 'infra/k8s');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

/** Closing pools, queues and policy runtimes after the drain / grace period. */
const CLOSE_MARGIN_MS = 5_000;
/** Workers also hand unfinished tasks back to the queue: "comfortably above" the grace. */
const WORKER_MARGIN_MS = 15_000;

/** Every variable loadConfig reads, recorded from the reads themselves (not a copied list). */
function variablesLoadConfigReads(): Set<string> {
  const names = new Set<string>();
  loadConfig(new Proxy({}, { get: (_t, name) => (typeof name === 'string' && names.add(name), undefined) }));
  return names;
}
const KNOWN = variablesLoadConfigReads();

/** Names in the first column of README's configuration table. */
function documentedVariables(): Set<string> {
  const readme = read('README.md');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  const names = new Set<string>();
  for (const line of table.split('\n')) {
    const first = /^\|([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]!);
  }
  return names;
}

/** Valid stand-ins for the Secret's values (real ones are generated at deploy time). */
const SECRET_SAMPLES: Env = {
  DATABASE_URL: 'postgres://ccg:pw@postgres.example.internal:5432/ccg',
  REDIS_URL: 'redis://redis.example.internal:6379',
  KUBECONFIG_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  GATEWAY_ADMIN_TOKEN: randomBytes(32).toString('base64'),
};

// ---------------------------------------------------------------- Kubernetes

const kustomization = parse(readFileSync(path.join(k8sDir, 'kustomization.yaml'), 'utf8')) as Obj;
const resources = (kustomization.resources as string[]).flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(k8sDir, file), 'utf8')).map((d) => ({ file, ...(d.toJS() as Obj) })),
);
const ofKind = (kind: string) => resources.filter((r) => r.kind === kind);
const byName = (kind: string, name: string) => {
  const found = ofKind(kind).find((r) => r.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the kustomization`);
  return found;
};
const deployment = (component: string) => {
  const found = ofKind('Deployment').find((d) => d.metadata.labels['app.kubernetes.io/component'] === component);
  if (!found) throw new Error(`no ${component} Deployment`);
  return found;
};
const secretTemplate = parse(readFileSync(path.join(k8sDir, 'secret.example.yaml'), 'utf8')) as Obj;

interface ResolvedContainer {
  container: Obj;
  env: Env;
  /** Where each variable comes from, e.g. "secret cluster-controller-gateway/DATABASE_URL". */
  sources: Record<string, string>;
}

/** A container's environment as the kubelet builds it (envFrom first, env overriding). */
function resolveContainer(container: Obj): ResolvedContainer {
  const env: Env = {};
  const sources: Record<string, string> = {};
  const secretValue = (name: string, key: string, optional: boolean): string | undefined => {
    expect(name).toBe(secretTemplate.metadata.name);
    if (!(key in secretTemplate.stringData)) throw new Error(`secret key ${key} is not in secret.example.yaml`);
    return optional && !(key in SECRET_SAMPLES) ? undefined : SECRET_SAMPLES[key];
  };
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) throw new Error(`unexpected envFrom ${JSON.stringify(from)}`);
    for (const [k, v] of Object.entries(byName('ConfigMap', from.configMapRef.name).data as Env)) {
      env[k] = v;
      sources[k] = `configmap ${from.configMapRef.name}`;
    }
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    let value: string | undefined;
    if (e.valueFrom?.secretKeyRef) value = secretValue(ref.name, ref.key, ref.optional === true);
    else if (e.valueFrom?.configMapKeyRef) value = byName('ConfigMap', ref.name).data[ref.key];
    else if (e.valueFrom) throw new Error(`unexpected valueFrom for ${e.name}`);
    else value = String(e.value);
    if (value !== undefined) env[e.name] = value;
    sources[e.name] = ref ? `${e.valueFrom.secretKeyRef ? 'secret' : 'configmap'} ${ref.name}/${ref.key}` : 'literal';
  }
  return { container, env, sources };
}

const gatewayContainers = ofKind('Deployment').flatMap((d) => (d.spec.template.spec.containers as Obj[]).map((c) => ({ deployment: d, ...resolveContainer(c) })));
const api = resolveContainer(deployment('api').spec.template.spec.containers[0]);
const apiConfig = loadConfig(api.env);
const worker = resolveContainer(deployment('worker').spec.template.spec.containers[0]);
const workerConfig = loadConfig(worker.env);

/** A container port by name or number. */
function containerPort(container: Obj, port: string | number): number {
  if (typeof port === 'number') return port;
  const found = (container.ports as Obj[] | undefined)?.find((p) => p.name === port);
  if (!found) throw new Error(`container ${container.name} has no port named ${port}`);
  return found.containerPort;
}
const apiPodLabels = deployment('api').spec.template.metadata.labels as Env;
const selects = (selector: Env) => Object.entries(selector).every(([k, v]) => apiPodLabels[k] === v);
/** The API container port a Service port leads to. */
function serviceTarget(service: Obj, servicePort: string | number): number {
  const sp = (service.spec.ports as Obj[]).find((p) => p.name === servicePort || p.port === servicePort);
  if (!sp) throw new Error(`service ${service.metadata.name} has no port ${servicePort}`);
  expect(selects(service.spec.selector)).toBe(true);
  return containerPort(api.container, sp.targetPort ?? sp.port);
}

describe('Kubernetes manifests (infra/k8s)', () => {
  it('the kustomization lists every manifest but the Secret template, and declares no Namespace', () => {
    const manifests = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml' && !f.includes('.example.'));
    expect([...kustomization.resources].sort()).toEqual(manifests.sort());
    expect(kustomization.resources).not.toContain('secret.example.yaml');
    expect(ofKind('Namespace')).toEqual([]);
    expect(ofKind('Secret')).toEqual([]);
    for (const r of resources) expect([r.metadata.namespace, r.file]).toEqual([kustomization.namespace, r.file]);
  });

  it("every object round-trips through @kubernetes/client-node's models unchanged (no unknown or misspelled field)", () => {
    const sorted = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Obj)[k])])) : v;
    for (const file of [...kustomization.resources, 'secret.example.yaml'] as string[]) {
      const text = readFileSync(path.join(k8sDir, file), 'utf8');
      const raw = parseAllDocuments(text).map((d) => d.toJS() as Obj);
      const typed = loadAllYaml(text) as object[];
      expect(typed).toHaveLength(raw.length);
      typed.forEach((object, i) => {
        expect([file, object.constructor.name]).toEqual([file, `V1${raw[i]!.kind}`]);
        expect(sorted(parse(dumpYaml(object)))).toEqual(sorted(raw[i]));
      });
    }
  });

  it('every variable set in a container or the ConfigMap is one packages/config reads and README documents', () => {
    const documented = documentedVariables();
    const named = new Set([...gatewayContainers.flatMap((c) => Object.keys(c.sources)), ...ofKind('ConfigMap').flatMap((m) => Object.keys(m.data))]);
    expect(named.size).toBeGreaterThan(10);
    for (const name of named) {
      expect([name, KNOWN.has(name)]).toEqual([name, true]);
      expect([name, documented.has(name)]).toEqual([name, true]);
    }
  });

  it('each container runs its entry point with an environment loadConfig accepts', () => {
    for (const c of gatewayContainers) {
      const entry = (c.container.args ?? c.container.command).find((a: string) => a.endsWith('/dist/main.js'));
      expect(existsSync(path.join(root, entry.replace('/dist/main.js', '/src/main.ts')))).toBe(true);
      expect(() => loadConfig(c.env)).not.toThrow();
    }
    expect(api.container.args).toContain('apps/api/dist/main.js');
    expect(worker.container.args).toContain('apps/worker/dist/main.js');
    // Split mode refuses to start without these two; the API also needs the first admin token.
    for (const cfg of [apiConfig, workerConfig]) {
      expect(cfg.databaseUrl).toBeDefined();
      expect(cfg.encryptionKey).toBeDefined();
    }
    expect(apiConfig.auth.adminToken).toBe(SECRET_SAMPLES.GATEWAY_ADMIN_TOKEN);
    expect(apiConfig.auth.disabled).toBe(false);
  });

  it('API and workers take the database, the queue and the encryption key from the same place', () => {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'KUBECONFIG_ENCRYPTION_KEY']) {
      expect([name, api.sources[name]]).toEqual([name, worker.sources[name]]);
      expect(api.sources[name]).toMatch(/^secret /);
    }
  });

  it('the Secret template holds exactly the keys the Deployments reference, and its placeholders are refused', () => {
    const referenced = new Set(gatewayContainers.flatMap((c) => (c.container.env as Obj[]).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.valueFrom.secretKeyRef.key as string)));
    expect(Object.keys(secretTemplate.stringData).sort()).toEqual([...referenced].sort());
    for (const key of Object.keys(secretTemplate.stringData)) expect([key, KNOWN.has(key)]).toEqual([key, true]);
    for (const name of ['KUBECONFIG_ENCRYPTION_KEY', 'GATEWAY_ADMIN_TOKEN']) {
      expect(() => loadConfig({ [name]: secretTemplate.stringData[name] })).toThrow(ConfigError);
    }
  });

  it('the API container ports are PORT and INTERNAL_PORT, and probes hit /healthz and /readyz on a listener', () => {
    expect(apiConfig.internalPort).toBeDefined();
    expect(containerPort(api.container, 'http')).toBe(apiConfig.port);
    expect(containerPort(api.container, 'internal')).toBe(apiConfig.internalPort);
    expect((api.container.ports as Obj[]).map((p) => p.containerPort).sort()).toEqual([apiConfig.port, apiConfig.internalPort].sort());
    const probe = (kind: string) => api.container[kind].httpGet as Obj;
    expect(probe('startupProbe').path).toBe('/healthz');
    expect(probe('livenessProbe').path).toBe('/healthz');
    expect(probe('readinessProbe').path).toBe('/readyz');
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect([apiConfig.port, apiConfig.internalPort]).toContain(containerPort(api.container, probe(kind).port));
    }
    const annotations = deployment('api').spec.template.metadata.annotations as Env;
    // Prometheus scrapes the internal listener, where /metrics needs no token.
    expect(Number(annotations['prometheus.io/port'])).toBe(apiConfig.internalPort);
    expect(annotations['prometheus.io/path']).toBe('/metrics');
  });

  it("the worker's one port is WORKER_METRICS_PORT: probed at /healthz and annotated for scraping", () => {
    expect(workerConfig.worker.metricsPort).toBeGreaterThan(0);
    expect((worker.container.ports as Obj[]).map((p) => p.containerPort)).toEqual([workerConfig.worker.metricsPort]);
    const probe = worker.container.livenessProbe.httpGet as Obj;
    expect(probe.path).toBe('/healthz');
    expect(containerPort(worker.container, probe.port)).toBe(workerConfig.worker.metricsPort);
    const annotations = deployment('worker').spec.template.metadata.annotations as Env;
    expect(Number(annotations['prometheus.io/port'])).toBe(workerConfig.worker.metricsPort);
    expect(annotations['prometheus.io/path']).toBe('/metrics');
  });

  it('grace periods exceed the configured drain (after the preStop sleep) and the worker grace', () => {
    const preStop = api.container.lifecycle.preStop.exec.command as string[];
    expect(preStop[0]).toBe('sleep');
    const preStopMs = Number(preStop[1]) * 1000;
    expect(preStopMs).toBeGreaterThan(0);
    expect(api.env.HTTP_DRAIN_MS).toBeDefined(); // stated next to the grace period, not left to the default
    expect(deployment('api').spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStopMs + apiConfig.httpDrainMs + CLOSE_MARGIN_MS);
    expect(worker.env.WORKER_SHUTDOWN_GRACE_MS).toBeDefined();
    expect(deployment('worker').spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(workerConfig.worker.shutdownGraceMs + WORKER_MARGIN_MS);
  });

  it('every pod runs as a non-root user with a read-only root filesystem and no privilege escalation', () => {
    const imageUser = Number(/^USER\s+(\d+)/m.exec(read('infra/Dockerfile'))?.[1]);
    for (const { deployment: d, container } of gatewayContainers) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.runAsUser).toBe(imageUser);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });

  it('the internal listener is reached only through a ClusterIP Service, the Ingress only reaches the external one', () => {
    const targets = ofKind('Service').map((s) => ({ s, ports: (s.spec.ports as Obj[]).map((p) => serviceTarget(s, p.name)) }));
    const internal = targets.filter((t) => t.ports.includes(apiConfig.internalPort!));
    expect(internal).toHaveLength(1);
    expect(internal[0]!.s.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(internal[0]!.ports).toEqual([apiConfig.internalPort]);
    // The AIOS services' existing URL: http://cluster-controller-gateway.services.svc.cluster.local:5000
    expect(internal[0]!.s.metadata.name).toBe('cluster-controller-gateway');
    expect(internal[0]!.s.spec.ports[0].port).toBe(5000);
    const backends = ofKind('Ingress').flatMap((i) => (i.spec.rules as Obj[]).flatMap((r) => (r.http.paths as Obj[]).map((p) => p.backend.service)));
    expect(backends.length).toBeGreaterThan(0);
    for (const b of backends) expect(serviceTarget(byName('Service', b.name), b.port.name ?? b.port.number)).toBe(apiConfig.port);
  });

  it('the Ingress accepts bodies up to BODY_LIMIT, so the gateway answers oversized ones itself', () => {
    for (const ingress of ofKind('Ingress')) {
      const m = /^(\d+)([kmg]?)$/i.exec(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size']);
      expect(m).not.toBeNull();
      const bytes = Number(m![1]) * 1024 ** ' kmg'.indexOf((m![2] || ' ').toLowerCase());
      expect(bytes).toBeGreaterThan(apiConfig.bodyLimitBytes);
    }
  });

  it('the NetworkPolicy names the API ports and admits the internal port only from listed sources', () => {
    const [policy] = ofKind('NetworkPolicy');
    expect(selects(policy!.spec.podSelector.matchLabels)).toBe(true);
    const rules = policy!.spec.ingress as Obj[];
    const ruleFor = (port: number) => rules.filter((r) => (r.ports as Obj[]).some((p) => containerPort(api.container, p.port) === port));
    expect(ruleFor(apiConfig.internalPort!)).toHaveLength(1);
    expect(ruleFor(apiConfig.internalPort!)[0]!.from.length).toBeGreaterThan(0);
    expect(ruleFor(apiConfig.port)).toHaveLength(1);
  });

  it("the ConfigMap's action map parses with the contracts' schema, and GLOBAL_SERVICES_MAP has the keys infra creation needs", () => {
    const data = ofKind('ConfigMap')[0]!.data as Env;
    const map = validate<Record<string, unknown>>(actionMapSchema(false), JSON.parse(data.CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP!), 'CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP');
    expect(Object.keys(map).length).toBeGreaterThan(0);
    expect(apiConfig.policy.actionsMap).toEqual(map);
    expect(workerConfig.policy.actionsMap).toEqual(map);
    for (const key of REQUIRED_GLOBAL_SERVICES) expect(apiConfig.infra.globalServices[key]).toMatch(/^(redis|https?):\/\//);
  });
});

// ---------------------------------------------------------------- Compose

/** Compose's variable interpolation: ${X}, ${X:-default}, ${X-default}, ${X:?error}, ${X?error}, $$. */
function interpolate(value: string, env: Env): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (whole, name: string | undefined, colon: string, op: string, arg: string) => {
    if (whole === '$$') return '$';
    const v = env[name!];
    const missing = v === undefined || (colon === ':' && v === '');
    if (op === '?' && missing) throw new Error(`${name}: ${arg}`);
    if (op === '-' && missing) return arg;
    return v ?? '';
  });
}
const interpolateAll = (value: unknown, env: Env): any =>
  typeof value === 'string' ? interpolate(value, env)
  : Array.isArray(value) ? value.map((v) => interpolateAll(v, env))
  : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]))
  : value;

/** "1m30s" → ms. */
function durationMs(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms']!;
  return ms;
}

const composeText = read('docker-compose.yml');
const hostEnv: Env = { KUBECONFIG_ENCRYPTION_KEY: SECRET_SAMPLES.KUBECONFIG_ENCRYPTION_KEY!, GATEWAY_ADMIN_TOKEN: SECRET_SAMPLES.GATEWAY_ADMIN_TOKEN! };
const compose = interpolateAll(parse(composeText, { merge: true }), hostEnv) as Obj;
const gatewayServices = Object.entries(compose.services as Record<string, Obj>).filter(([, s]) => (s.command as string[] | undefined)?.some((a) => a.endsWith('/dist/main.js')));
const composeService = (name: string) => compose.services[name] as Obj;
const composeConfig = (name: string) => loadConfig(composeService(name).environment);

describe('docker-compose.yml', () => {
  it('refuses to start without the encryption key and the first admin token', () => {
    const raw = parse(composeText, { merge: true });
    expect(() => interpolateAll(raw, { GATEWAY_ADMIN_TOKEN: hostEnv.GATEWAY_ADMIN_TOKEN! })).toThrow(/KUBECONFIG_ENCRYPTION_KEY/);
    expect(() => interpolateAll(raw, { KUBECONFIG_ENCRYPTION_KEY: hostEnv.KUBECONFIG_ENCRYPTION_KEY! })).toThrow(/GATEWAY_ADMIN_TOKEN/);
  });

  it('runs the API and a worker whose variables packages/config reads, README documents and loadConfig accepts', () => {
    expect(gatewayServices.map(([name]) => name).sort()).toEqual(['api', 'worker']);
    const documented = documentedVariables();
    for (const [name, service] of gatewayServices) {
      for (const variable of Object.keys(service.environment)) {
        expect([name, variable, KNOWN.has(variable), documented.has(variable)]).toEqual([name, variable, true, true]);
      }
      const entry = (service.command as string[]).find((a) => a.endsWith('/dist/main.js'))!;
      expect(existsSync(path.join(root, entry.replace('/dist/main.js', '/src/main.ts')))).toBe(true);
      const cfg = loadConfig(service.environment);
      expect(cfg.encryptionKey).toBeDefined();
      expect(cfg.databaseUrl).toBeDefined();
    }
    expect(composeService('api').command).toContain('apps/api/dist/main.js');
    expect(composeService('worker').command).toContain('apps/worker/dist/main.js');
    expect(composeConfig('api').auth.adminToken).toBe(hostEnv.GATEWAY_ADMIN_TOKEN);
    for (const v of ['DATABASE_URL', 'REDIS_URL', 'KUBECONFIG_ENCRYPTION_KEY']) expect(composeService('api').environment[v]).toBe(composeService('worker').environment[v]);
  });

  it('publishes PORT, and INTERNAL_PORT on the loopback interface only; the healthcheck asks the API', () => {
    const cfg = composeConfig('api');
    expect(cfg.internalPort).toBeDefined();
    const mappings = (composeService('api').ports as string[]).map((p) => {
      const parts = String(p).split(':');
      return { container: Number(parts.at(-1)), hostIp: parts.length === 3 ? parts[0] : undefined };
    });
    expect(mappings.map((m) => m.container).sort()).toEqual([cfg.port, cfg.internalPort].sort());
    expect(mappings.find((m) => m.container === cfg.internalPort)!.hostIp).toBe('127.0.0.1');
    expect(composeService('api').healthcheck.test.join(' ')).toMatch(new RegExp(`127\\.0\\.0\\.1:${cfg.port}/(readyz|healthz)`));
  });

  it("the worker's healthcheck asks its WORKER_METRICS_PORT listener", () => {
    const port = composeConfig('worker').worker.metricsPort;
    expect(port).toBeGreaterThan(0);
    expect(composeService('worker').healthcheck.test.join(' ')).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}/healthz`));
  });

  it('stop_grace_period exceeds HTTP_DRAIN_MS for the API and WORKER_SHUTDOWN_GRACE_MS for workers', () => {
    expect(composeService('api').environment.HTTP_DRAIN_MS).toBeDefined();
    expect(durationMs(composeService('api').stop_grace_period)).toBeGreaterThanOrEqual(composeConfig('api').httpDrainMs + CLOSE_MARGIN_MS);
    expect(composeService('worker').environment.WORKER_SHUTDOWN_GRACE_MS).toBeDefined();
    expect(durationMs(composeService('worker').stop_grace_period)).toBeGreaterThanOrEqual(composeConfig('worker').worker.shutdownGraceMs + WORKER_MARGIN_MS);
  });

  it('passes the action map and GLOBAL_SERVICES_MAP through from the host environment', () => {
    const map = { add_node: 'aiosv1.policies.cluster-controller-gateway.add-node:v0.0.1-stable' };
    const globals = { policy_db_url: 'http://mgmt.example.com:30102' };
    const env = { ...hostEnv, CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP: JSON.stringify(map), GLOBAL_SERVICES_MAP: JSON.stringify(globals) };
    const withMaps = interpolateAll(parse(composeText, { merge: true }), env) as Obj;
    for (const name of ['api', 'worker']) {
      const cfg = loadConfig(withMaps.services[name].environment);
      expect(cfg.policy.actionsMap).toEqual(map);
      expect(cfg.infra.globalServices).toEqual(globals);
    }
    // Unset on the host: the gateway's defaults.
    expect(composeConfig('api').policy.actionsMap).toEqual({});
  });
});

// ---------------------------------------------------------------- Dockerfile

describe('infra/Dockerfile', () => {
  const dockerfile = read('infra/Dockerfile');
  it('exposes the listener ports the manifests use, runs tini and the API by default, as a numeric non-root user', () => {
    const exposed = (/^EXPOSE\s+(.+)$/m.exec(dockerfile)?.[1] ?? '').split(/\s+/).map(Number);
    for (const port of [apiConfig.port, apiConfig.internalPort, composeConfig('api').internalPort, workerConfig.worker.metricsPort, composeConfig('worker').worker.metricsPort]) expect(exposed).toContain(port);
    expect(Number(/^USER\s+(\d+):(\d+)/m.exec(dockerfile)?.[1])).toBeGreaterThan(0);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/m);
    const cmd = JSON.parse(/^CMD\s+(\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd).toEqual(['node', 'apps/api/dist/main.js']);
  });

  it('builds every workspace package, the CLI included, into the runtime stage', () => {
    expect(dockerfile).toMatch(/^RUN pnpm turbo run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app \.\/$/m);
    expect(existsSync(path.join(root, 'apps/cli/src/main.ts'))).toBe(true);
    // The build context keeps sources and drops only what is rebuilt or not needed.
    const ignored = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
    for (const needed of ['apps', 'packages', 'apps/cli', 'packages/policy/python', 'pnpm-lock.yaml']) expect(ignored).not.toContain(needed);
  });
});
