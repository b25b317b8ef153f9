import type { Kysely } from 'kysely';
import { GatewayError, InputError, type JsonObject } from '@ccg/contracts';
import { explainExclusions, filterRankedClusters, type ExclusionReport, type BlockRepository, type ClusterRepository, type ClusterRow, type Database } from '@ccg/db';
import type { ClusterClient } from '@ccg/cluster-client';
import type { MetricsService } from '@ccg/metrics';
import type { PolicyEngine, PolicyRegistry } from '@ccg/policy';
import { toClusterView, type PrecheckGate, type WriteMeta } from '@ccg/registry';
import { filterOf, gpusNeeded, type Block } from './block.js';

export interface PlacementOptions {
  /**
   * Candidates the filter passes on, best first by the built-in ranking (the free GPU memory of a
   * cluster's best node); the rest are not considered. Bounds what a clusterAllocator rule is
   * given (`filter_result`) and the default selection's work. @defaultValue 100
   */
  candidateLimit?: number;
  /** Candidates dry-run when the block has no clusterAllocator rule (or its `settings.max_candidates`). @defaultValue 20 */
  defaultMaxCandidates?: number;
  /** Dry runs in flight at once. @defaultValue 8 */
  dryRunConcurrency?: number;
  /** Time limit of one cluster's dry run. @defaultValue the client's timeout */
  dryRunTimeoutMs?: number;
  /** Time limit of one clusterAllocator evaluation. @defaultValue 10_000 */
  policyTimeoutMs?: number;
}

/** What the pipeline uses; the API builds it from its services, the worker from its own. */
export interface PlacementDeps {
  db: Kysely<Database>;
  clusters: ClusterRepository;
  blocks: BlockRepository;
  metrics: MetricsService;
  client: ClusterClient;
  gate: PrecheckGate;
  policy: { engine: PolicyEngine; registry: PolicyRegistry };
  options?: PlacementOptions;
}

/** A clusterAllocator rule that failed or answered something unusable (a 502: the rule is the upstream). */
export class AllocatorPolicyError extends GatewayError {
  constructor(uri: string, message: string) {
    super(502, 'ALLOCATOR_POLICY_ERROR', `clusterAllocator ${uri}: ${message}`, { policy_rule_uri: uri });
  }
}

export interface DryRunResult {
  cluster_id: string;
  score_data?: JsonObject;
  error?: { code: string; message: string; status?: number };
}

/** The post_dry_run entry (aios-neighbours §2.5). */
export interface PickEntry {
  id: string;
  cluster: JsonObject;
  score_data: JsonObject;
  block_data: JsonObject;
}

export interface SelectionResult {
  /** Ids of the selected clusters, in the allocator's order. */
  cluster_ids: string[];
  /** `rule` (the block's clusterAllocator) or `default` (best single-node GPU fit). */
  by: 'rule' | 'default';
  policy_rule_uri?: string;
  /** Default selection: candidates dropped because no node fits, with the reason. */
  dropped?: Array<{ cluster_id: string; reason: string }>;
  /** Default selection: each kept cluster's best node. */
  fit?: Array<{ cluster_id: string; node_id: string | null; free_gpus: number; free_gpu_mem: number }>;
}

/** Candidates a clusterAllocator rule sees at most (PLACEMENT_CANDIDATE_LIMIT). */
export const DEFAULT_CANDIDATE_LIMIT = 100;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const errorOf = (err: unknown): DryRunResult['error'] =>
  err instanceof GatewayError ? { code: err.code, message: err.message, status: err.status } : { code: 'ERROR', message: err instanceof Error ? err.message : String(err) };

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * The allocation pipeline (DESIGN "Placement"; original-gateway §2 without its bugs):
 * filter → clusterAllocator `selection` → dry run on each candidate (bounded, each with its own
 * timeout; a failing cluster is reported, not fatal) → clusterAllocator `post_dry_run` picks one
 * → `add_block` pre-check → `create_block` → blocks registry. The dry-run endpoint, cluster
 * selection and the allocation task all run these same stages.
 */
export class PlacementPipeline {
  constructor(private readonly deps: PlacementDeps) {}

  private get opts(): Required<Omit<PlacementOptions, 'dryRunTimeoutMs'>> & { dryRunTimeoutMs?: number } {
    const o = this.deps.options ?? {};
    return {
      candidateLimit: o.candidateLimit ?? DEFAULT_CANDIDATE_LIMIT,
      defaultMaxCandidates: o.defaultMaxCandidates ?? 20,
      dryRunConcurrency: o.dryRunConcurrency ?? 8,
      dryRunTimeoutMs: o.dryRunTimeoutMs,
      policyTimeoutMs: o.policyTimeoutMs ?? 10_000,
    };
  }

  /**
   * Stage 1: the clusters matching the block's filter (no filter: every cluster), best first by
   * the built-in ranking, at most candidateLimit (docs/ARCHITECTURE.md "Placement").
   */
  async filter(block: Block): Promise<ClusterRow[]> {
    return filterRankedClusters(this.deps.db, filterOf(block) ?? null, this.opts.candidateLimit);
  }

  /** Per top-level condition of the filter, which clusters fail it (F's explainExclusions); null without a filter. */
  async exclusions(block: Block): Promise<ExclusionReport | null> {
    const filter = filterOf(block);
    return filter ? explainExclusions(this.deps.db, filter) : null;
  }

  private async allocatorRule(block: Block) {
    const ca = block.policies.clusterAllocator;
    if (!ca || !ca.policyRuleURI) return undefined;
    const rule = await this.deps.policy.registry.resolve(ca.policyRuleURI);
    if (!rule) throw new InputError(`policy rule ${ca.policyRuleURI} (clusterAllocator) is not registered`, { field: 'policies.clusterAllocator.policyRuleURI', policy_rule_uri: ca.policyRuleURI });
    return { rule, ca };
  }

  private async evaluate(block: Block, input: JsonObject): Promise<unknown> {
    const found = await this.allocatorRule(block);
    if (!found) return undefined;
    try {
      const { output } = await this.deps.policy.engine.evaluate(found.rule, { parameters: found.ca.parameters, settings: found.ca.settings, input, timeoutMs: this.opts.policyTimeoutMs });
      return output;
    } catch (err) {
      throw new AllocatorPolicyError(found.ca.policyRuleURI, err instanceof Error ? err.message : String(err));
    }
  }

  /** Stage 2: the clusterAllocator's `selection` over the candidates, or the default GPU-fit ranking. */
  async select(block: Block, candidates: ClusterRow[]): Promise<SelectionResult> {
    const found = await this.allocatorRule(block);
    if (!found) return this.defaultSelection(block, candidates);
    const uri = found.ca.policyRuleURI;
    const output = await this.evaluate(block, { filter_result: candidates.map((c) => toClusterView(c) as JsonObject), block_data: block.doc, action: 'selection' });
    if (!isObject(output) || !Array.isArray(output.clusters)) throw new AllocatorPolicyError(uri, 'selection must return {clusters: [cluster documents]}');
    const known = new Set(candidates.map((c) => c.id));
    const ids: string[] = [];
    for (const c of output.clusters) {
      const id = isObject(c) ? c.id : c;
      if (typeof id !== 'string' || !known.has(id)) throw new AllocatorPolicyError(uri, `selection returned ${JSON.stringify(id)}, which is not a filtered candidate`);
      if (!ids.includes(id)) ids.push(id);
    }
    return { cluster_ids: ids, by: 'rule', policy_rule_uri: uri };
  }

  /**
   * No clusterAllocator rule: rank by the best single node's fit for the block's GPUs (from the
   * latest metrics' per-GPU list), not cluster-wide sums: 4 free GPUs spread over 4 nodes do not
   * host a 2-GPU block. A GPU counts as free when its free memory reaches
   * `resourceAllocator.parameters.min_gpu_free_memory` (default: any). Clusters with no fitting
   * node are dropped; the rest are ordered by their best node's free GPU memory.
   */
  private async defaultSelection(block: Block, candidates: ClusterRow[]): Promise<SelectionResult> {
    const need = gpusNeeded(block);
    const minFree = Number(block.policies.resourceAllocator?.parameters.min_gpu_free_memory ?? 0) || 0;
    const max = Number(block.policies.clusterAllocator?.settings.max_candidates ?? this.opts.defaultMaxCandidates) || this.opts.defaultMaxCandidates;
    const dropped: NonNullable<SelectionResult['dropped']> = [];
    const fits = await mapBounded(candidates, 8, async (c) => {
      const m = await this.deps.metrics.forPrecheck(c.id);
      const nodes = Array.isArray(m?.nodes) ? (m.nodes as JsonObject[]) : [];
      let best = { node_id: null as string | null, free_gpus: 0, free_gpu_mem: 0 };
      for (const n of nodes) {
        const gpus = Array.isArray(n.gpus) ? (n.gpus as JsonObject[]) : [];
        const free = gpus.map((g) => Number(g.freeMem) || 0).filter((mem) => mem > 0 && mem >= minFree).sort((a, b) => b - a);
        if (free.length < need) continue;
        const mem = (need > 0 ? free.slice(0, need) : free).reduce((a, b) => a + b, 0);
        if (best.node_id === null || mem > best.free_gpu_mem) best = { node_id: String(n.id ?? ''), free_gpus: free.length, free_gpu_mem: mem };
      }
      return { cluster_id: c.id, ...best, hasMetrics: m !== null };
    });
    const kept = fits.filter((f) => {
      if (need === 0 || f.node_id !== null) return true;
      dropped.push({ cluster_id: f.cluster_id, reason: f.hasMetrics ? `no node has ${need} free GPU(s)` : 'no metrics reported yet' });
      return false;
    });
    kept.sort((a, b) => b.free_gpu_mem - a.free_gpu_mem || a.cluster_id.localeCompare(b.cluster_id));
    const chosen = kept.slice(0, max);
    return { cluster_ids: chosen.map((f) => f.cluster_id), by: 'default', dropped, fit: chosen.map(({ hasMetrics: _h, ...f }) => f) };
  }

  /** Stage 3: the controller's `dry_run` on each selected cluster, bounded, each with its own timeout. */
  async dryRun(block: Block, clusterIds: string[]): Promise<DryRunResult[]> {
    const ra = block.policies.resourceAllocator;
    const fields = { policy_rule_uri: ra?.policyRuleURI || 'default', settings: ra?.settings ?? {}, parameters: ra?.parameters ?? {}, inputs: block.doc };
    const timeoutMs = this.opts.dryRunTimeoutMs;
    return mapBounded(clusterIds, this.opts.dryRunConcurrency, async (id): Promise<DryRunResult> => {
      try {
        const row = await this.deps.clusters.get(id);
        const data = await this.deps.client.executeAction(row.doc, 'dry_run', fields, timeoutMs ? { timeoutMs } : {});
        const score = isObject(data) ? data.selection_score_data : undefined;
        if (!isObject(score)) return { cluster_id: id, error: { code: 'INVALID_DRY_RUN', message: 'the controller did not answer {selection_score_data: {score, node_info}}' } };
        return { cluster_id: id, score_data: score };
      } catch (err) {
        return { cluster_id: id, error: errorOf(err) };
      }
    });
  }

  /**
   * Stage 4: the clusterAllocator's `post_dry_run` picks one of the successful dry runs; without
   * a rule the highest score wins (a score of 0 means "cannot place", ties go to the lower id).
   */
  async pick(block: Block, results: DryRunResult[]): Promise<{ pick: PickEntry | null; reason_nothing_fits?: string }> {
    const ok = results.filter((r) => r.score_data);
    if (ok.length === 0) {
      return { pick: null, reason_nothing_fits: results.length ? 'every dry run failed' : 'no candidate cluster was selected' };
    }
    const entries: PickEntry[] = [];
    for (const r of ok) {
      const row = await this.deps.clusters.find(r.cluster_id);
      if (row) entries.push({ id: r.cluster_id, cluster: toClusterView(row) as JsonObject, score_data: r.score_data!, block_data: block.doc });
    }
    const found = await this.allocatorRule(block);
    if (!found) {
      const best = [...entries].sort((a, b) => Number(b.score_data.score ?? 0) - Number(a.score_data.score ?? 0) || a.id.localeCompare(b.id))[0];
      if (!best || !(Number(best.score_data.score) > 0)) return { pick: null, reason_nothing_fits: 'every dry run scored 0 (the block cannot be placed)' };
      return { pick: best };
    }
    const output = await this.evaluate(block, { clusters: entries as unknown as JsonObject[], action: 'post_dry_run' });
    if (output === null || (isObject(output) && Object.keys(output).length === 0)) return { pick: null, reason_nothing_fits: `${found.ca.policyRuleURI} picked no cluster` };
    const id = isObject(output) ? output.id : undefined;
    const entry = entries.find((e) => e.id === id);
    if (!entry) throw new AllocatorPolicyError(found.ca.policyRuleURI, `post_dry_run must return one of the entries it was given; it returned id ${JSON.stringify(id)}`);
    return { pick: entry };
  }

  /** Stage 5: the `add_block` pre-check on the chosen cluster; returns the block_data to create. */
  async precheck(block: Block, clusterId: string, meta: WriteMeta): Promise<JsonObject> {
    const cluster = await this.deps.clusters.get(clusterId);
    const input = { block_data: block.doc, cluster_data: toClusterView(cluster) as JsonObject, cluster_metrics: await this.deps.metrics.forPrecheck(clusterId) };
    const checked = await this.deps.gate.check('add_block', input, { ...meta, clusterId });
    if (checked === input) return block.doc;
    const data = (checked as { block_data?: unknown } | undefined)?.block_data;
    if (!isObject(data) || data.id !== block.id) throw new InputError(`the add_block pre-check returned an unusable block_data (it must be an object with id ${block.id})`, { field: 'block_data' });
    return data;
  }

  /** Stage 6: the chosen cluster's controller creates the block (long timeout). */
  async create(blockData: JsonObject, clusterId: string): Promise<unknown> {
    const cluster = await this.deps.clusters.get(clusterId);
    return this.deps.client.executeAction(cluster.doc, 'create_block', { block_data: blockData, cluster_id: clusterId }, { long: true });
  }

  /** Stage 7: the blocks registry entry. A repeat (after a crash) finds its own entry and succeeds. */
  async record(blockData: JsonObject, blockId: string, clusterId: string): Promise<void> {
    const existing = await this.deps.blocks.find(blockId);
    if (!existing) {
      await this.deps.blocks.insert({ id: blockId, doc: blockData, cluster_id: clusterId, status: 'running' });
      return;
    }
    if (existing.status !== 'removed' && existing.cluster_id !== clusterId) {
      throw new GatewayError(409, 'BLOCK_EXISTS', `block ${blockId} is already allocated on cluster ${existing.cluster_id}`, { id: blockId, cluster_id: existing.cluster_id });
    }
    await this.deps.blocks.update(blockId, { doc: blockData, cluster_id: clusterId, status: 'running' });
  }

  /** Everything up to the pick, with the explanation the dry-run endpoint answers. */
  async explain(block: Block): Promise<JsonObject> {
    const candidates = await this.filter(block);
    const excluded = await this.exclusions(block);
    const selection = await this.select(block, candidates);
    const dryRuns = await this.dryRun(block, selection.cluster_ids);
    const { pick, reason_nothing_fits } = await this.pick(block, dryRuns);
    return {
      block_id: block.id,
      candidates: candidates.map((c) => c.id),
      excluded_by_condition: excluded as unknown as JsonObject,
      selection: selection as unknown as JsonObject,
      dry_runs: dryRuns as unknown as JsonObject[],
      ...(pick ? { pick: pick as unknown as JsonObject } : { pick: null, reason_nothing_fits: reason_nothing_fits ?? null }),
    };
  }
}
