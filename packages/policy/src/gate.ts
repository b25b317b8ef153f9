import { createPatch } from 'rfc6902';
import { PrecheckDeniedError, PrecheckUnavailableError, type PrecheckAction } from '@ccg/contracts';
import type { ActionMap } from './action-map.js';
import type { PolicyEngine } from './engine.js';
import type { PolicyRegistry } from './registry.js';
import { PolicyTimeoutError } from './runtime.js';
import { redact, type DecisionLog } from './decision-log.js';

export interface PrecheckMeta {
  actor?: string | null;
  requestId?: string | null;
  taskId?: string | null;
  /** The cluster the action concerns: selects that cluster's map over the global one. */
  clusterId?: string | null;
}

type Outcome = 'allowed' | 'denied' | 'error' | 'timeout';

/** One rule evaluation, as told to the gate's observers (metrics). */
export interface PrecheckEvaluation {
  action: string;
  outcome: Outcome;
  mode: 'enforce' | 'audit';
  /** Whether the gate refused the action (a denial in enforce mode). */
  refused: boolean;
  latencyMs: number;
}

export type PrecheckObserver = (evaluation: PrecheckEvaluation) => void;

/**
 * precheck(action, input): the one gate in front of every write. No map entry: no check. Otherwise
 * the rule runs; `allowed: false` is a 403 with the rule's input_data as the reason, `allowed: true`
 * continues with the returned input_data. In audit mode the result is logged and never acts.
 * When the rule cannot run, the action's failure policy decides (closed: 503, open: proceed).
 */
export class PrecheckGate {
  private readonly observers = new Set<PrecheckObserver>();

  constructor(
    private readonly map: ActionMap,
    private readonly registry: PolicyRegistry,
    private readonly engine: PolicyEngine,
    private readonly decisions: DecisionLog,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** Adds an observer told about every evaluation (not about actions without a map entry); returns its removal. */
  observe(observer: PrecheckObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  async check<T>(action: string, input: T, meta: PrecheckMeta = {}): Promise<T> {
    const entry = await this.map.entryFor(action as PrecheckAction, meta.clusterId ?? undefined);
    if (!entry) return input;
    const started = process.hrtime.bigint();
    const uri = entry.policyRuleURI;
    let outcome: Outcome;
    let reason: unknown = null;
    let result: T = input;
    let codeSha: string | null = null;
    try {
      const rule = await this.registry.resolve(uri);
      if (!rule) throw new Error(`policy rule ${uri} is not registered`);
      codeSha = rule.sha256;
      const { output } = await this.engine.evaluate(rule, { parameters: entry.parameters, settings: entry.settings, input, timeoutMs: entry.timeoutMs ?? this.defaultTimeoutMs });
      if (!output || typeof output !== 'object' || typeof (output as { allowed?: unknown }).allowed !== 'boolean') {
        throw new Error('the rule did not return {allowed: boolean, input_data}');
      }
      const o = output as { allowed: boolean; input_data?: unknown };
      outcome = o.allowed ? 'allowed' : 'denied';
      if (o.allowed) result = ('input_data' in o ? o.input_data : input) as T;
      else reason = o.input_data ?? null;
    } catch (err) {
      outcome = err instanceof PolicyTimeoutError ? 'timeout' : 'error';
      reason = (err as Error).message;
    }
    // Most rules return their input unchanged: compare serialisations before computing a patch,
    // and keep the caller's own object so it need not be validated again.
    const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
    this.tell({ action, outcome, mode: entry.mode, refused: entry.mode !== 'audit' && outcome === 'denied', latencyMs });
    let diff: ReturnType<typeof createPatch> = [];
    if (outcome === 'allowed' && result !== input) {
      if (JSON.stringify(result) === JSON.stringify(input)) result = input;
      else diff = createPatch(input, result);
    }
    this.decisions.record({
      action,
      scope: meta.clusterId ?? '',
      rule_uri: uri,
      code_sha256: codeSha,
      mode: entry.mode,
      outcome,
      reason: reason === null ? null : JSON.stringify(redact(reason)),
      input_changed: diff.length > 0,
      input_diff: diff.length ? JSON.stringify(redact(diff)) : null,
      latency_ms: latencyMs,
      actor: meta.actor ?? null,
      request_id: meta.requestId ?? null,
      task_id: meta.taskId ?? null,
      cluster_id: meta.clusterId ?? null,
    });
    if (entry.mode === 'audit') return input;
    if (outcome === 'allowed') return result;
    if (outcome === 'denied') throw new PrecheckDeniedError(action, uri, reason);
    if (entry.failurePolicy === 'open') return input;
    throw new PrecheckUnavailableError(action, uri, String(reason));
  }

  private tell(evaluation: PrecheckEvaluation): void {
    for (const o of this.observers) {
      try {
        o(evaluation);
      } catch {
        /* an observer must never change the outcome of a check */
      }
    }
  }
}
