import { PrecheckDeniedError, type JsonObject } from '@ccg/contracts';
import type { TaskContext, TaskDefinition } from '@ccg/tasks';
import { toBlockView, toClusterView } from '@ccg/registry';
import { normaliseBlock } from './block.js';
import { PlacementPipeline, type DryRunResult, type PlacementDeps, type SelectionResult } from './pipeline.js';

export const BLOCK_ALLOCATION = 'block_allocation';
export const BLOCK_DEALLOCATION = 'block_deallocation';

/** Step names of block_allocation, one per pipeline stage. */
export const ALLOCATION_STEPS = ['filter', 'select', 'dry-run', 'pick', 'precheck', 'create', 'record'];
export const DEALLOCATION_STEPS = ['precheck', 'remove', 'record'];

/** The block IR (normalised by the API before submission; checked again by the handler). */
export const blockAllocationInputSchema = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } };
export const blockDeallocationInputSchema = {
  type: 'object',
  required: ['block_id'],
  additionalProperties: false,
  properties: { block_id: { type: 'string', minLength: 1, maxLength: 253 } },
};

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function need(deps: PlacementDeps | undefined, type: string): PlacementDeps {
  if (!deps) throw new Error(`${type} needs the placement services: this process built its task catalogue without them (createCatalogue(deps))`);
  return deps;
}

/** A denial fails the task with the rule's reason in task_status_data.error (the runner keeps only the message). */
async function gated<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PrecheckDeniedError) {
      const d = err.details as { reason?: unknown };
      throw new Error(`${err.message}: ${JSON.stringify(d.reason ?? null)}`);
    }
    throw err;
  }
}

async function allocate(deps: PlacementDeps, ctx: TaskContext<JsonObject>) {
  const p = new PlacementPipeline(deps);
  const block = normaliseBlock(ctx.input);
  const { candidates } = await ctx.step('filter', async () => {
    const rows = await p.filter(block);
    if (rows.length === 0) throw new Error(`no cluster matches the filter of block ${block.id}: ${JSON.stringify(await p.exclusions(block))}`);
    return { candidates: rows.map((r) => r.id) };
  });
  const selection = await ctx.step('select', async (): Promise<SelectionResult> => {
    const rows = (await Promise.all(candidates.map((id) => deps.clusters.find(id)))).filter((r) => r !== undefined);
    const s = await p.select(block, rows);
    if (s.cluster_ids.length === 0) throw new Error(`the selection kept no cluster: ${JSON.stringify(s.dropped ?? [])}`);
    return s;
  });
  const dryRuns = await ctx.step('dry-run', async () => ({ results: await p.dryRun(block, selection.cluster_ids) }));
  const picked = await ctx.step('pick', async () => {
    const r = await p.pick(block, dryRuns.results as DryRunResult[]);
    if (!r.pick) throw new Error(`nothing fits block ${block.id}: ${r.reason_nothing_fits}; dry runs: ${JSON.stringify(dryRuns.results)}`);
    return { cluster_id: r.pick.id, score_data: r.pick.score_data };
  });
  const { block_data } = await ctx.step('precheck', () => gated(async () => ({ block_data: await p.precheck(block, picked.cluster_id, { taskId: ctx.taskId }) })));
  const created = await ctx.step('create', async () => ({ result: (await p.create(block_data, picked.cluster_id)) ?? null }));
  await ctx.step('record', async () => {
    await p.record(block_data, block.id, picked.cluster_id);
    return { block_id: block.id, cluster_id: picked.cluster_id, status: 'running' };
  });
  return { block_id: block.id, cluster_id: picked.cluster_id, score_data: picked.score_data, result: created.result };
}

/**
 * The `remove_block` pre-check input, exactly the spec's keys: `{block_data, cluster_data,
 * cluster_metrics, block_metrics, block_instance_nodes}`. block_metrics is the block's entry in
 * the cluster's latest metrics report (`blocks[]` with `blockId`), null when none;
 * block_instance_nodes the nodes its instances report.
 */
export async function removalInput(deps: PlacementDeps, blockId: string) {
  const block = await deps.blocks.get(blockId);
  if (!block.cluster_id || block.status === 'removed') throw new Error(`block ${blockId} is not allocated on any cluster`);
  const cluster = await deps.clusters.get(block.cluster_id);
  const clusterMetrics = await deps.metrics.forPrecheck(block.cluster_id);
  const blocks = Array.isArray(clusterMetrics?.blocks) ? clusterMetrics.blocks : [];
  const blockMetrics = (blocks.find((b) => isObject(b) && (b.blockId === blockId || b.id === blockId)) as JsonObject | undefined) ?? null;
  const instances = Array.isArray(blockMetrics?.instances) ? blockMetrics.instances : [];
  const nodes = [...new Set(instances.map((i) => (isObject(i) ? i.nodeId : undefined)).filter((n): n is string => typeof n === 'string' && n !== ''))];
  return {
    clusterId: block.cluster_id,
    clusterDoc: cluster.doc,
    input: {
      block_data: toBlockView(block) as JsonObject,
      cluster_data: toClusterView(cluster) as JsonObject,
      cluster_metrics: clusterMetrics,
      block_metrics: blockMetrics,
      block_instance_nodes: nodes,
    },
  };
}

async function deallocate(deps: PlacementDeps, ctx: TaskContext<{ block_id: string }>) {
  const blockId = ctx.input.block_id;
  const { cluster_id } = await ctx.step('precheck', () =>
    gated(async () => {
      const r = await removalInput(deps, blockId);
      const checked = await deps.gate.check('remove_block', r.input, { taskId: ctx.taskId, clusterId: r.clusterId });
      const id = (checked as { block_data?: { id?: unknown } } | undefined)?.block_data?.id;
      if (checked !== r.input && id !== blockId) throw new Error(`the remove_block pre-check changed block_data.id to ${JSON.stringify(id)}; only block ${blockId} can be removed here`);
      return { cluster_id: r.clusterId };
    }),
  );
  const removed = await ctx.step('remove', async () => {
    const cluster = await deps.clusters.get(cluster_id);
    return { result: (await deps.client.executeAction(cluster.doc, 'remove_block', { block_id: blockId, cluster_id }, { long: true })) ?? null };
  });
  // Only after the controller succeeded: a failed removal leaves the entry as it was.
  await ctx.step('record', async () => {
    await deps.blocks.update(blockId, { status: 'removed' });
    return { block_id: blockId, status: 'removed' };
  });
  return { block_id: blockId, cluster_id, result: removed.result };
}

const blockKey = (id: unknown) => (typeof id === 'string' && id ? `block:${id}` : undefined);

/**
 * The block task definitions. Validation and plans need nothing, so the API builds them without
 * services; the worker passes its PlacementDeps so the handlers can run.
 */
export function blockTasks(deps?: PlacementDeps): TaskDefinition<any, any>[] {
  const allocation: TaskDefinition<JsonObject> = {
    type: BLOCK_ALLOCATION,
    inputSchema: blockAllocationInputSchema,
    plan: () => ALLOCATION_STEPS,
    // One allocation or de-allocation per block at a time, enforced by the task registry.
    exclusiveKey: (input) => blockKey(input.id ?? input.blockId),
    // Creation is not safe to repeat blindly after a partial failure: one attempt; retry is an API verb.
    attempts: 1,
    run: (ctx) => allocate(need(deps, BLOCK_ALLOCATION), ctx),
  };
  const deallocation: TaskDefinition<{ block_id: string }> = {
    type: BLOCK_DEALLOCATION,
    inputSchema: blockDeallocationInputSchema,
    plan: () => DEALLOCATION_STEPS,
    exclusiveKey: (input) => blockKey(input.block_id),
    attempts: 1,
    run: (ctx) => deallocate(need(deps, BLOCK_DEALLOCATION), ctx),
  };
  return [allocation, deallocation];
}
