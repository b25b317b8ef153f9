import { infraRequestSchema } from '@ccg/kube';
import type { OperationSpec } from '../spec.js';
import { taskViewSchema } from '../schemas.js';

const tags = ['infra'];
const description = 'The kubeconfig travels sealed in the job payload only (never stored or logged). Pre-check with `{cluster_data}`; answers the new task (`data.task_id`).';

export const infraOperations: OperationSpec[] = [
  {
    method: 'post',
    path: '/create-cluster-infra',
    summary: "Create a cluster's infrastructure on its Kubernetes cluster: starts a cluster_infra_creation task (pre-check create_cluster_infra)",
    description,
    tags,
    headers: ['Idempotency-Key'],
    body: infraRequestSchema,
    data: taskViewSchema,
    errors: [404],
  },
  {
    method: 'post',
    path: '/remove-cluster-infra',
    summary: "Remove a cluster's infrastructure: starts a cluster_infra_removal task (pre-check remove_cluster_infra)",
    description,
    tags,
    headers: ['Idempotency-Key'],
    body: infraRequestSchema,
    data: taskViewSchema,
    errors: [404],
  },
];
