import type { JsonObject } from '@ccg/contracts';

export type RuntimeName = 'js' | 'python' | 'remote';

/** A registered rule as the runtimes see it. */
export interface PolicyRule {
  /** `name:version-tag`, e.g. `aiosv1.policies.cluster-controller-gateway.add-node:v0.0.1-stable`. */
  uri: string;
  runtime: RuntimeName;
  /**
   * js / python: the rule's source text (for Python, `code/function.py` of the AIOS archive).
   * remote: JSON text `{"url": <policies system or executor base URL>, "executor_id": "...",
   * "policy_rule_uri"?: <URI at the executor, default `uri`>}`.
   */
  code: string;
  /** sha256 (hex) of `code`; a warm instance is keyed by uri + sha256. */
  sha256: string;
  /** Passed to the constructor as `settings`. */
  settings: JsonObject;
  /** Passed to the constructor as `parameters` (the registered defaults). */
  parameters: JsonObject;
}

export interface EvalRequest {
  rule: PolicyRule;
  /** The merged parameters for this evaluation, passed to `eval(parameters, ...)`. */
  parameters: JsonObject;
  /** The input dict, passed as `input_data`. */
  input: unknown;
  /** The rule's persistent context (a JSON object); the rule may change it in place. */
  context: JsonObject;
  /** Wall-clock limit of this evaluation in ms. */
  timeoutMs: number;
}

export interface EvalResult {
  /** What `eval` returned (JSON). */
  output: unknown;
  /** The context after the evaluation (the engine persists what changed). */
  context: JsonObject;
}

/** One way of running rules. Implementations keep warm instances per rule (uri + sha256). */
export interface PolicyRuntime {
  readonly name: RuntimeName;
  evaluate(req: EvalRequest): Promise<EvalResult>;
  /** Releases processes, sandboxes and timers. */
  close(): Promise<void>;
}

/** The evaluation ran past its time limit (the sandbox was interrupted or the process replaced). */
export class PolicyTimeoutError extends Error {
  constructor(uri: string, ms: number) {
    super(`policy ${uri} timed out after ${ms} ms`);
    this.name = 'PolicyTimeoutError';
  }
}

/** The rule could not be loaded or raised, or its sandbox hit a limit (memory, forbidden access). */
export class PolicyRuntimeError extends Error {
  constructor(uri: string, message: string) {
    super(`policy ${uri} failed: ${message}`);
    this.name = 'PolicyRuntimeError';
  }
}
