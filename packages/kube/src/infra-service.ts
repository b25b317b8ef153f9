import type { JsonObject } from '@ccg/contracts';
import { validate } from '@ccg/contracts';
import { toClusterView, type PrecheckGate } from '@ccg/registry';
import type { TaskService, TaskView } from '@ccg/tasks';
import { kubeconfigText, parseKubeconfig } from './kubeconfig.js';
import { checkCreatePrerequisites, resolveInfraSettings, type InfraConfig } from './settings.js';

/** What `POST /create-cluster-infra` and `/remove-cluster-infra` take (spec API §4). */
export const infraRequestSchema = {
  type: 'object',
  required: ['cluster_id', 'kube_config_data'],
  additionalProperties: false,
  properties: {
    cluster_id: { type: 'string', minLength: 1, maxLength: 253 },
    kube_config_data: {
      description: 'The target cluster\'s kubeconfig: YAML text, a JSON object, or base64 of either. Never stored.',
      oneOf: [{ type: 'string', minLength: 1, maxLength: 1_000_000 }, { type: 'object' }],
    },
  },
} as const;

export interface InfraServiceDeps {
  clusters: { get(id: string): Promise<Parameters<typeof toClusterView>[0]> };
  gate: PrecheckGate;
  tasks: TaskService;
  /** The gateway's infra configuration (ALLOW_KUBECONFIG_EXEC, GLOBAL_SERVICES_MAP, ...). */
  settings: InfraConfig;
}

export interface InfraRequestMeta {
  actor?: string | null;
  requestId?: string | null;
  idempotencyKey?: string;
}

/**
 * Starts infra creation and removal: checks the kubeconfig (400 naming the field, before anything
 * runs), that the cluster exists (404) and, for creation, has what it needs (a public hostname:
 * 400; the operator's GLOBAL_SERVICES_MAP: 500 INFRA_NOT_CONFIGURED), the `create_cluster_infra` / `remove_cluster_infra`
 * pre-check with `{cluster_data}` (403 on a denial; the decision is allow/deny: the task reads
 * the cluster from the registry itself), then submits the task with the kubeconfig as a secret —
 * sealed into the job payload, never in task_data, Postgres or logs.
 */
export class InfraService {
  constructor(private readonly deps: InfraServiceDeps) {}

  create(body: unknown, meta: InfraRequestMeta = {}): Promise<TaskView> {
    // What creation needs from the entry and the gateway, answered now rather than in the task.
    const prerequisites = (clusterData: JsonObject) => checkCreatePrerequisites(resolveInfraSettings(this.deps.settings, clusterData));
    return this.submit('create_cluster_infra', 'cluster_infra_creation', body, meta, prerequisites);
  }

  remove(body: unknown, meta: InfraRequestMeta = {}): Promise<TaskView> {
    return this.submit('remove_cluster_infra', 'cluster_infra_removal', body, meta);
  }

  private async submit(action: string, taskType: string, body: unknown, meta: InfraRequestMeta, prerequisites?: (clusterData: JsonObject) => void): Promise<TaskView> {
    const input = validate<{ cluster_id: string; kube_config_data: unknown }>(infraRequestSchema, body, 'body');
    const kubeconfig = parseKubeconfig(input.kube_config_data, { allowExec: this.deps.settings.allowKubeconfigExec, field: 'kube_config_data' });
    const clusterData = toClusterView(await this.deps.clusters.get(input.cluster_id)) as JsonObject;
    prerequisites?.(clusterData);
    await this.deps.gate.check(action, { cluster_data: clusterData }, { actor: meta.actor, requestId: meta.requestId, clusterId: input.cluster_id });
    const { task } = await this.deps.tasks.submit(
      taskType,
      { cluster_id: input.cluster_id, kube_config_data: kubeconfigText(kubeconfig) },
      { idempotencyKey: meta.idempotencyKey, actor: meta.actor },
    );
    return task;
  }
}
