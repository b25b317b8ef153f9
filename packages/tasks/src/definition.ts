import type { JsonObject } from '@ccg/contracts';
import type { Logger } from 'pino';

export interface StepContext {
  signal: AbortSignal;
  /** How many times this step has been started, this time included. */
  attempt: number;
}

export interface TaskContext<I> {
  taskId: string;
  input: I;
  /** Secrets sent with the request, decrypted from the job payload (never stored). */
  secrets: Record<string, string>;
  signal: AbortSignal;
  log: Logger;
  /**
   * Runs one planned step and records it. A step already completed by an earlier run is not
   * run again: its recorded output is returned. Steps must be safe to repeat, since a crash
   * between the work and its record re-runs it.
   */
  step<T>(name: string, fn: (s: StepContext) => Promise<T>): Promise<T>;
}

/** One entry of the job catalogue: a task type, its input, its plan and its handler. */
export interface TaskDefinition<I extends object = JsonObject, O = unknown> {
  type: string;
  /** Queue lane; long infra work should not starve short jobs. @defaultValue 'default' */
  lane?: string;
  inputSchema: object;
  /** Input fields that are secrets: sealed into the job payload, removed from task_data. */
  secretFields?: string[];
  /** The ordered step names, recorded as `pending` when the task is created. */
  plan(input: I): string[];
  /** The cluster a task concerns, for `GET /tasks?cluster_id=`. */
  clusterId?(input: I): string | undefined;
  /** While a task of this key is pending or running, another gets 409 TASK_RUNNING (e.g. `block:<id>`). */
  exclusiveKey?(input: I): string | undefined;
  /** Attempts for retryable errors. @defaultValue JOB_ATTEMPTS */
  attempts?: number;
  run(ctx: TaskContext<I>): Promise<O>;
}

export class TaskCatalogue {
  private readonly defs = new Map<string, TaskDefinition<any, any>>();

  constructor(defs: TaskDefinition<any, any>[] = []) {
    for (const d of defs) this.register(d);
  }

  register(def: TaskDefinition<any, any>): this {
    if (this.defs.has(def.type)) throw new Error(`task type ${def.type} registered twice`);
    this.defs.set(def.type, def);
    return this;
  }

  get(type: string): TaskDefinition<any, any> | undefined {
    return this.defs.get(type);
  }

  lanes(): string[] {
    return [...new Set([...this.defs.values()].map((d) => d.lane ?? 'default'))];
  }

  types(): string[] {
    return [...this.defs.keys()];
  }
}
