import { NotFoundError, type JsonObject, type Page } from '@ccg/contracts';
import type { DecisionFilter, PageRequest } from '@ccg/db';
import { compactEntry, type PolicySystem } from '@ccg/policy';

/** Read models and the test evaluation behind the policy admin routes. */
export class PolicyAdmin {
  constructor(
    private readonly policy: PolicySystem,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** The effective map (the spec's format), where each entry comes from, and unresolved URIs. */
  async describeMap(clusterId?: string) {
    const map = await this.policy.actionMap.load(clusterId);
    const entries = Object.entries(map);
    const resolved = await Promise.all(entries.map(([, e]) => this.policy.registry.resolve(e!.entry.policyRuleURI).then(Boolean, () => false)));
    return {
      cluster_id: clusterId ?? null,
      map: Object.fromEntries(entries.map(([a, e]) => [a, compactEntry(e!.entry)])),
      sources: Object.fromEntries(entries.map(([a, e]) => [a, e!.source])),
      unresolved: [...new Set(entries.filter((_, i) => !resolved[i]).map(([, e]) => e!.entry.policyRuleURI))],
    };
  }

  async history(clusterId: string | undefined, page: PageRequest) {
    const p = await this.policy.mapRepo.history(clusterId ?? '', page);
    return {
      items: p.items.map((h) => ({ id: h.id, cluster_id: h.scope || null, changes: h.changes, actor: h.actor, request_id: h.request_id, created_at: h.created_at.toISOString() })),
      next_cursor: p.next_cursor,
    };
  }

  async decisions(filter: DecisionFilter, page: PageRequest): Promise<Page<JsonObject>> {
    await this.policy.decisions.flush();
    const p = await this.policy.decisionRepo.list(filter, page);
    return {
      items: p.items.map((d) => ({ ...d, created_at: d.created_at.toISOString() }) as unknown as JsonObject),
      next_cursor: p.next_cursor,
    };
  }

  /** Runs a rule on a given input with a scratch context (nothing is persisted): how admins try a rule. */
  async evaluate(uri: string, body: { input: unknown; parameters?: JsonObject; context?: JsonObject; timeoutMs?: number }) {
    const rule = await this.policy.registry.resolve(uri);
    if (!rule) throw new NotFoundError(`policy ${uri} is not registered`, { uri });
    const started = process.hrtime.bigint();
    try {
      const result = await this.policy.engine.evaluate(rule, { parameters: body.parameters, input: body.input, timeoutMs: body.timeoutMs ?? this.defaultTimeoutMs, scratchContext: body.context ?? {} });
      return { uri, code_sha256: rule.sha256, ok: true, output: result.output, context: result.context, latency_ms: Number(process.hrtime.bigint() - started) / 1e6 };
    } catch (err) {
      return { uri, code_sha256: rule.sha256, ok: false, error: (err as Error).message, error_type: (err as Error).name, latency_ms: Number(process.hrtime.bigint() - started) / 1e6 };
    }
  }
}
