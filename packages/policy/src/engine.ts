import { createHash } from 'node:crypto';
import type { JsonObject } from '@ccg/contracts';
import type { PolicyContextRepository } from '@ccg/db';
import { PolicyRuntimeError, type EvalResult, type PolicyRule, type PolicyRuntime, type RuntimeName } from './runtime.js';

export interface EvaluateOptions {
  /** Overrides of the rule's registered parameters (the action map's or the caller's). */
  parameters?: JsonObject;
  /** Overrides of the rule's registered settings. */
  settings?: JsonObject;
  input: unknown;
  timeoutMs: number;
  /** A scratch context instead of the rule's stored one (admin test evaluations). */
  scratchContext?: JsonObject;
}

const stable = (v: unknown) => JSON.stringify(v);

/**
 * Runs a rule on the runtime it names, with its persistent `context`: loaded before the
 * evaluation (cached while the change feed is up) and, where the rule changed it, written back
 * key by key so replicas and restarts see it.
 */
export class PolicyEngine {
  private readonly contexts = new Map<string, JsonObject>();

  constructor(
    private readonly runtimes: Record<RuntimeName, PolicyRuntime>,
    private readonly contextRepo: PolicyContextRepository,
    private readonly cacheEnabled: () => boolean,
    private readonly contextChanged: (uri: string) => Promise<void>,
  ) {}

  async evaluate(rule: PolicyRule, opts: EvaluateOptions): Promise<EvalResult> {
    const runtime = this.runtimes[rule.runtime];
    if (!runtime) throw new PolicyRuntimeError(rule.uri, `unknown runtime ${rule.runtime}`);
    const settings = { ...rule.settings, ...opts.settings };
    const parameters = { ...rule.parameters, ...opts.parameters };
    // A warm instance is built with these settings and parameters, so they are part of its key.
    const instanceKey = createHash('sha256').update(rule.sha256).update(stable(settings)).update(stable(parameters)).digest('hex');
    const before = opts.scratchContext ?? (await this.loadContext(rule.uri));
    const result = await runtime.evaluate({
      rule: { ...rule, sha256: instanceKey, settings, parameters },
      parameters,
      input: opts.input,
      context: Object.keys(before).length ? structuredClone(before) : {},
      timeoutMs: opts.timeoutMs,
    });
    if (!opts.scratchContext) await this.saveContext(rule.uri, before, result.context ?? {});
    return result;
  }

  private async loadContext(uri: string): Promise<JsonObject> {
    const cached = this.cacheEnabled() ? this.contexts.get(uri) : undefined;
    if (cached) return cached;
    const ctx = await this.contextRepo.load(uri);
    if (this.cacheEnabled()) this.contexts.set(uri, ctx);
    return ctx;
  }

  private async saveContext(uri: string, before: JsonObject, after: JsonObject): Promise<void> {
    const set: JsonObject = {};
    for (const [k, v] of Object.entries(after)) if (stable(before[k]) !== stable(v)) set[k] = v;
    const removed = Object.keys(before).filter((k) => !(k in after));
    if (Object.keys(set).length === 0 && removed.length === 0) return;
    await this.contextRepo.apply(uri, set, removed);
    this.contexts.set(uri, after);
    await this.contextChanged(uri);
  }

  forgetContext(uri?: string): void {
    if (uri) this.contexts.delete(uri);
    else this.contexts.clear();
  }

  async close(): Promise<void> {
    await Promise.allSettled(Object.values(this.runtimes).map((r) => r.close()));
  }
}
