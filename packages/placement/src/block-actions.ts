import { ConflictError, InputError, type JsonObject } from '@ccg/contracts';
import { TaskRepository, type TaskWithSteps } from '@ccg/db';
import { toClusterView } from '@ccg/registry';
import type { TaskService, TaskView } from '@ccg/tasks';
import { normaliseBlock } from './block.js';
import { BLOCK_ALLOCATION, BLOCK_DEALLOCATION } from './allocation-tasks.js';
import { PlacementPipeline, type PlacementDeps } from './pipeline.js';

export interface SubmitMeta {
  idempotencyKey?: string;
  actor?: string | null;
}

/** `/blockActions/*` and `DELETE /blocks/:id`: the synchronous explanations and the two block tasks. */
export class BlockActionsService {
  private readonly pipeline: PlacementPipeline;
  private readonly taskRepo: TaskRepository;

  constructor(
    private readonly deps: PlacementDeps,
    private readonly tasks: TaskService,
  ) {
    this.pipeline = new PlacementPipeline(deps);
    this.taskRepo = new TaskRepository(deps.db);
  }

  /** `POST /blockActions/dryRun`: candidates, exclusions per condition, selection, every dry run, the pick or why nothing fits. */
  async dryRun(body: unknown): Promise<JsonObject> {
    return this.pipeline.explain(normaliseBlock(body));
  }

  /** `POST /blockActions/selectClusters`: the clusterAllocator's `selection` output, `{clusters: [cluster documents]}`. */
  async selectClusters(body: unknown): Promise<{ clusters: JsonObject[] }> {
    const block = normaliseBlock(body);
    const candidates = await this.pipeline.filter(block);
    const s = await this.pipeline.select(block, candidates);
    const byId = new Map(candidates.map((c) => [c.id, c]));
    return { clusters: s.cluster_ids.map((id) => toClusterView(byId.get(id)!) as JsonObject) };
  }

  /** `POST /blockActions/allocate`: a block_allocation task; 409 while one runs for the same block or when it is allocated. */
  async allocate(body: unknown, meta: SubmitMeta = {}): Promise<TaskView> {
    const block = normaliseBlock(body);
    const existing = await this.deps.blocks.find(block.id);
    if (existing && existing.status !== 'removed') {
      throw new ConflictError(`block ${block.id} is already allocated on cluster ${existing.cluster_id}`, { id: block.id, cluster_id: existing.cluster_id }, 'BLOCK_EXISTS');
    }
    await this.refuseWhileRunning(BLOCK_ALLOCATION, block.id, (t) => (t.task_data as JsonObject | null)?.id === block.id, meta);
    return (await this.tasks.submit(BLOCK_ALLOCATION, block.doc, meta)).task;
  }

  /** `POST /blockActions/deallocate {block_id}` and `DELETE /blocks/:id`: a block_deallocation task. */
  async deallocate(body: unknown, meta: SubmitMeta = {}): Promise<TaskView> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InputError('invalid body: (body) must be an object {"block_id": "<id>"}', { field: '(body)' });
    const blockId = (body as { block_id?: unknown }).block_id;
    if (typeof blockId !== 'string' || blockId === '') throw new InputError('invalid body: block_id is required (a string)', { field: 'block_id' });
    const block = await this.deps.blocks.get(blockId);
    if (block.status === 'removed' || !block.cluster_id) {
      throw new ConflictError(`block ${blockId} is not allocated on any cluster (status ${block.status})`, { id: blockId, status: block.status }, 'BLOCK_NOT_ALLOCATED');
    }
    await this.refuseWhileRunning(BLOCK_DEALLOCATION, blockId, (t) => (t.task_data as JsonObject | null)?.block_id === blockId, meta);
    return (await this.tasks.submit(BLOCK_DEALLOCATION, { block_id: blockId }, meta)).task;
  }

  /**
   * 409 naming the running task of this type for the same block. A repeat with that task's own
   * Idempotency-Key goes on to submit, which answers with the same task. (Two requests racing
   * past this check both run; the registry's unique block id stops the second at `record`.)
   */
  private async refuseWhileRunning(type: string, blockId: string, same: (t: TaskWithSteps) => boolean, meta: SubmitMeta): Promise<void> {
    for (const status of ['pending', 'in_progress'] as const) {
      let cursor: string | undefined;
      do {
        const page = await this.taskRepo.list({ task_type: type, task_status: status }, { limit: 500, cursor });
        const running = page.items.find(same);
        if (running) {
          if (meta.idempotencyKey && running.idempotency_key === meta.idempotencyKey) return;
          throw new ConflictError(`block ${blockId} is already being ${type === BLOCK_ALLOCATION ? 'allocated' : 'de-allocated'} by task ${running.task_id}`, { id: blockId, task_id: running.task_id, task_status: running.task_status }, 'TASK_RUNNING');
        }
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    }
  }
}
