/**
 * The two infra task definitions: `cluster_infra_creation` (the spec's steps a–f) and
 * `cluster_infra_removal` (the exact reverse). The kubeconfig is a secret field: sealed into the
 * job payload by the TaskService, handed to the handler decrypted, never stored.
 */
import type { Logger } from 'pino';
import { ID_PATTERN, type JsonObject } from '@ccg/contracts';
import { ClusterService, type ClusterView, type InfraRecord, type InfraStatus } from '@ccg/registry';
import { TaskCancelledError, TaskFailedError, WorkerShutdownError, errorMessage, type TaskContext, type TaskDefinition } from '@ccg/tasks';
import type { KubernetesObjectApi } from '@kubernetes/client-node';
import { kubeClient, errorText } from './client.js';
import { kubeconfigServer, parseKubeconfig, type KubeconfigDoc } from './kubeconfig.js';
import { applyObject, ObjectError } from './apply.js';
import { NotReadyError, waitForReady } from './readiness.js';
import { teardown, type Residue, type TeardownReport } from './teardown.js';
import {
  CREATION_STEPS,
  OBJECT_STEPS,
  REMOVAL_STEPS,
  describeRef,
  objectsForStep,
  refOf,
  removalObjectsForStep,
  urlMap,
  urlMapServedBy,
  type ObjectRef,
  type ObjectStep,
} from './manifests.js';
import { checkCreatePrerequisites, resolveInfraSettings, type InfraConfig, type InfraSettings } from './settings.js';

export const CLUSTER_INFRA_CREATION = 'cluster_infra_creation';
export const CLUSTER_INFRA_REMOVAL = 'cluster_infra_removal';
export { CREATION_STEPS, REMOVAL_STEPS };

/** Where the handlers read and record the cluster entry. */
export interface InfraClusterStore {
  read(id: string): Promise<ClusterView>;
  recordInfra(id: string, record: InfraRecord): Promise<ClusterView>;
}

export interface InfraDeps {
  clusters: InfraClusterStore;
  settings: InfraConfig;
  log?: Logger;
}

/** InfraDeps from the worker's pieces: the cluster repository and the parsed INFRA_* configuration. */
export function createInfraDeps(opts: { clusterRepository: ConstructorParameters<typeof ClusterService>[0]; settings: InfraConfig; log?: Logger }): InfraDeps {
  return { clusters: new ClusterService(opts.clusterRepository), settings: opts.settings, log: opts.log };
}

export interface InfraTaskInput {
  cluster_id: string;
  kube_config_data: unknown;
}

export const infraTaskInputSchema = {
  type: 'object',
  required: ['cluster_id', 'kube_config_data'],
  additionalProperties: false,
  properties: {
    cluster_id: { type: 'string', pattern: ID_PATTERN },
    kube_config_data: { type: ['string', 'object'] },
  },
} as const;

function need(deps: InfraDeps | undefined, type: string): InfraDeps {
  if (!deps) throw new Error(`${type} needs the infra services: this process built its task catalogue without them (createCatalogue(deps))`);
  return deps;
}

function kubeconfigOf(ctx: TaskContext<InfraTaskInput>, deps: InfraDeps): KubeconfigDoc {
  const text = ctx.secrets.kube_config_data;
  if (text === undefined) throw new Error('the task carries no kubeconfig: secrets are not stored, so a retry must send secrets.kube_config_data again');
  return parseKubeconfig(text, { allowExec: deps.settings.allowKubeconfigExec });
}

/** One cheap request first, so a wrong server or refused credentials fail the task clearly. */
async function preflight(api: KubernetesObjectApi, doc: KubeconfigDoc): Promise<void> {
  try {
    await api.list('v1', 'Namespace', undefined, undefined, undefined, undefined, undefined, undefined, 1);
  } catch (err) {
    throw new Error(`the Kubernetes API server ${kubeconfigServer(doc)} cannot be used with this kubeconfig: ${errorText(err)}`);
  }
}

const status = (taskId: string, s: InfraStatus['status'], message: string, extra: JsonObject = {}): InfraStatus => ({
  status: s,
  task_id: taskId,
  updated_at: new Date().toISOString(),
  message,
  ...extra,
});

const cancelled = (ctx: TaskContext<unknown>, err: unknown) => ctx.signal.aborted || err instanceof TaskCancelledError;

const teardownOptions = (s: InfraSettings, signal?: AbortSignal) => ({ deleteTimeoutMs: s.deleteTimeoutMs, pollInitialMs: s.pollInitialMs, pollMaxMs: s.pollMaxMs, signal });

interface StepOutput extends JsonObject {
  applied: string[];
  /** Objects this task created (they did not exist before): what a rollback removes. */
  created: Array<ObjectRef & JsonObject>;
  skipped: string[];
}

/**
 * Applies a step's objects (server-side apply), then waits until each workload is rolled out,
 * all within the step's time limit. `created` collects the objects that did not exist before.
 */
async function applyStep(api: KubernetesObjectApi, s: InfraSettings, steps: ObjectStep[], signal: AbortSignal, created: ObjectRef[]): Promise<StepOutput> {
  const deadline = Date.now() + s.stepTimeoutMs;
  const objects = steps.flatMap((st) => objectsForStep(st, s));
  const out: StepOutput = { applied: [], created: [], skipped: [] };
  for (const o of objects) {
    const r = await applyObject(api, o);
    if (r.skipped) {
      out.skipped.push(describeRef(r.ref));
      continue;
    }
    out.applied.push(describeRef(r.ref));
    if (r.created) {
      created.push(r.ref);
      out.created.push(r.ref as ObjectRef & JsonObject);
    }
  }
  for (const o of objects) {
    await waitForReady(api, o, { timeoutMs: Math.max(0, deadline - Date.now()), pollInitialMs: s.pollInitialMs, pollMaxMs: s.pollMaxMs, signal });
  }
  return out;
}

function failureDetails(err: unknown): { object: ObjectRef | null; reason: string; podReason: string | null } {
  if (err instanceof NotReadyError) return { object: err.ref, reason: err.message, podReason: err.podReason ?? null };
  if (err instanceof ObjectError) return { object: err.ref, reason: err.message, podReason: null };
  return { object: null, reason: errorMessage(err), podReason: null };
}

function describeTeardown(r: TeardownReport): string {
  const removed = r.removed.length ? `removed ${r.removed.length} object(s) (${r.removed.join(', ')})` : 'removed nothing';
  const left = r.residue.length ? `; could not remove ${r.residue.map((x) => `${x.kind} ${x.namespace ? `${x.namespace}/` : ''}${x.name} (${x.error})`).join(', ')}` : '; nothing of this task is left';
  return `${removed}${left}`;
}

async function createInfra(deps: InfraDeps, ctx: TaskContext<InfraTaskInput>) {
  const clusterId = ctx.input.cluster_id;
  const log = ctx.log;
  const doc = kubeconfigOf(ctx, deps);
  const cluster = await deps.clusters.read(clusterId);
  const s = resolveInfraSettings(deps.settings, cluster);
  checkCreatePrerequisites(s);
  const api = kubeClient(doc, { requestTimeoutMs: s.requestTimeoutMs, signal: ctx.signal });
  await preflight(api, doc);

  // A retry of a task whose earlier run rolled back: its completed steps' objects are gone, so
  // the first step that runs applies them again (server-side apply makes this safe either way).
  const previous = cluster.infraStatus as JsonObject | undefined;
  const rolledBackBefore = previous?.task_id === ctx.taskId && previous?.rolled_back === true;
  const restore: ObjectStep[] = [];
  const created: ObjectRef[] = [];
  const applied: Record<string, string[]> = {};
  let failedStep: string | undefined;
  try {
    for (const step of OBJECT_STEPS) {
      failedStep = step;
      let ran = false;
      const out = await ctx.step(step, async () => {
        ran = true;
        const steps = [...restore, step];
        restore.length = 0;
        return applyStep(api, s, steps, ctx.signal, created);
      });
      if (!ran) {
        // Completed in an earlier run: its objects were created then (or rolled back since).
        if (rolledBackBefore) restore.push(step);
        else created.push(...((out.created ?? []) as ObjectRef[]));
      }
      applied[step] = out.applied;
      log.info({ step, applied: out.applied.length }, 'infra step done');
    }
    failedStep = 'url-map';
    const map = urlMap(s);
    const objects = Object.values(applied).flat();
    await ctx.step('url-map', async () => {
      await deps.clusters.recordInfra(clusterId, { urlMap: map, infraStatus: status(ctx.taskId, 'ready', `${objects.length} objects applied`, { objects, exposure: s.exposure }) });
      return { urlMap: map };
    });
    return { cluster_id: clusterId, urlMap: map, exposure: s.exposure, objects: applied };
  } catch (err) {
    // A worker shutting down hands the task back as it is: the next run resumes, nothing to record.
    if (ctx.signal.reason instanceof WorkerShutdownError) throw err;
    if (cancelled(ctx, err)) {
      await deps.clusters.recordInfra(clusterId, { infraStatus: status(ctx.taskId, 'cancelled', `cancelled during step ${failedStep}; objects already applied are left in place`) }).catch(() => undefined);
      throw err;
    }
    const f = failureDetails(err);
    let rollback: TeardownReport | null = null;
    if (s.rollbackOnFailure && created.length > 0) {
      log.warn({ step: failedStep, objects: created.length }, 'infra creation failed: rolling back');
      rollback = await teardown(api, [...created].reverse(), teardownOptions(s, ctx.signal)).catch((e) => {
        if (cancelled(ctx, e)) throw e;
        return { removed: [], absent: [], residue: created.map((r) => ({ kind: r.kind, namespace: r.namespace ?? null, name: r.name, error: errorText(e) })) };
      });
    }
    const rollbackText = !s.rollbackOnFailure
      ? 'rollback is off (rollbackOnFailure false): the applied objects are left in place'
      : rollback
        ? `rollback ${describeTeardown(rollback)}`
        : 'rollback had nothing to remove (every object existed before this task)';
    const message = `infra creation failed at step ${failedStep}: ${f.reason}. ${rollbackText}`;
    await deps.clusters
      .recordInfra(clusterId, { infraStatus: status(ctx.taskId, 'failed', message, { failed_step: failedStep ?? null, rolled_back: (rollback?.removed.length ?? 0) > 0 }) })
      .catch((e) => log.warn({ err: errorMessage(e) }, 'could not record the infra status'));
    throw new TaskFailedError(message, {
      failed_step: failedStep ?? null,
      failed_object: f.object ? { kind: f.object.kind, namespace: f.object.namespace ?? null, name: f.object.name } : null,
      pod_reason: f.podReason,
      rollback: rollback ? { removed: rollback.removed, residue: rollback.residue as unknown as JsonObject[] } : null,
    });
  }
}

/** A removal step that left objects behind: recorded as failed, and the next steps still run. */
class ResidueError extends Error {
  constructor(readonly report: TeardownReport) {
    super(`could not remove ${report.residue.map((r) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}: ${r.error}`).join('; ')}`);
    this.name = 'ResidueError';
  }
}

/** The urlMap after a removal: everything cleared when nothing is left, else the keys whose services remain. */
function remainingUrlMap(s: InfraSettings, current: unknown, residue: Residue[]): Record<string, string> {
  if (residue.length === 0 || typeof current !== 'object' || current === null) return {};
  const left = new Set(residue.map((r) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`));
  const servedBy = urlMapServedBy(s);
  return Object.fromEntries(Object.entries(current as Record<string, string>).filter(([k]) => servedBy[k]?.some((o) => left.has(o))));
}

async function removeInfra(deps: InfraDeps, ctx: TaskContext<InfraTaskInput>) {
  const clusterId = ctx.input.cluster_id;
  const doc = kubeconfigOf(ctx, deps);
  const cluster = await deps.clusters.read(clusterId);
  const s = resolveInfraSettings(deps.settings, cluster);
  const api = kubeClient(doc, { requestTimeoutMs: s.requestTimeoutMs, signal: ctx.signal });
  await preflight(api, doc);

  const removed: string[] = [];
  const residue: Residue[] = [];
  const objectSteps = REMOVAL_STEPS.filter((st): st is ObjectStep => st !== 'url-map');
  for (const step of objectSteps) {
    try {
      const out = await ctx.step(step, async () => {
        const report = await teardown(api, removalObjectsForStep(step, s).map(refOf), {
          ...teardownOptions(s, ctx.signal),
          onObject: (ref, outcome) => ctx.log.debug({ step, object: describeRef(ref), outcome }, 'infra object'),
        });
        if (report.residue.length > 0) throw new ResidueError(report);
        return { removed: report.removed, absent: report.absent };
      });
      removed.push(...(out.removed as string[]));
    } catch (err) {
      if (cancelled(ctx, err)) throw err;
      if (!(err instanceof ResidueError)) throw err;
      removed.push(...err.report.removed);
      residue.push(...err.report.residue);
    }
  }
  const message = residue.length === 0 ? `removed ${removed.length} object(s)` : `removal left ${residue.length} object(s): ${residue.map((r) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name} (${r.error})`).join('; ')}`;
  try {
    await ctx.step('url-map', async () => {
      const current = await deps.clusters.read(clusterId);
      const next = remainingUrlMap(s, (current.config as JsonObject | undefined)?.urlMap, residue);
      await deps.clusters.recordInfra(clusterId, { urlMap: next, infraStatus: status(ctx.taskId, residue.length ? 'removal_failed' : 'removed', message, { residue: residue as unknown as JsonObject[] }) });
      // Recorded as failed while objects are left, so a retry runs it again.
      if (residue.length > 0) throw new Error(`kept the urlMap keys of what is left: ${Object.keys(next).join(', ') || 'none'}`);
      return { urlMap: next };
    });
  } catch (err) {
    if (cancelled(ctx, err) || residue.length === 0) throw err;
  }
  if (residue.length > 0) throw new TaskFailedError(`infra removal incomplete: ${message}`, { removed, residue: residue as unknown as JsonObject[] });
  return { cluster_id: clusterId, removed, residue: [] };
}

const infraKey = (input: { cluster_id?: unknown }) => (typeof input.cluster_id === 'string' && input.cluster_id ? `infra:${input.cluster_id}` : undefined);

/**
 * The infra task definitions. Validation and plans need nothing, so the API builds them without
 * services; the worker passes InfraDeps so the handlers can run.
 */
export function infraTasks(deps?: InfraDeps): TaskDefinition<any, any>[] {
  const common = {
    lane: 'infra',
    inputSchema: infraTaskInputSchema,
    secretFields: ['kube_config_data'],
    clusterId: (input: InfraTaskInput) => input.cluster_id,
    // One infra task per cluster at a time, creation and removal alike.
    exclusiveKey: infraKey,
    // Steps are safe to repeat, but a failed creation rolls back: retry is an API verb (with the kubeconfig again).
    attempts: 1,
  };
  const creation: TaskDefinition<InfraTaskInput> = {
    ...common,
    type: CLUSTER_INFRA_CREATION,
    plan: () => [...CREATION_STEPS],
    run: (ctx) => createInfra(need(deps, CLUSTER_INFRA_CREATION), ctx),
  };
  const removal: TaskDefinition<InfraTaskInput> = {
    ...common,
    type: CLUSTER_INFRA_REMOVAL,
    plan: () => [...REMOVAL_STEPS],
    run: (ctx) => removeInfra(need(deps, CLUSTER_INFRA_REMOVAL), ctx),
  };
  return [creation, removal];
}
