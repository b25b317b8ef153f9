import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PolicyRuntimeError, PolicyTimeoutError, type EvalRequest, type EvalResult, type PolicyRuntime } from '../runtime.js';
import { unpackEvaluation } from './js.js';

export interface JsThreadPoolOptions {
  /** @defaultValue 2 */
  threads?: number;
  memoryLimitBytes?: number;
  /** Extra time past a rule's timeout before its thread is considered stuck and replaced. @defaultValue 1000 */
  graceMs?: number;
}

interface Pending {
  resolve: (r: EvalResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  req: EvalRequest;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** The compiled thread entry; from sources (tests) the built copy is used. */
function threadEntry(): URL {
  const here = new URL('./js-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../../dist/runtimes/js-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('js-thread.js not found: build @ccg/policy first (npm run build)');
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/**
 * The JS runtime off the event loop: QuickJS evaluations are synchronous, so each runs in a
 * worker thread and a looping rule never stalls the API. A rule always goes to the same thread
 * (by URI), so its warm instance stays warm. A thread that overruns a rule's timeout by more than
 * the grace period is terminated and replaced.
 */
export class JsThreadPool implements PolicyRuntime {
  readonly name = 'js' as const;
  private readonly slots: (Slot | undefined)[];
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: JsThreadPoolOptions = {}) {
    this.slots = Array.from({ length: Math.max(1, opts.threads ?? 2) }, () => undefined);
  }

  private slot(i: number): Slot {
    let s = this.slots[i];
    if (s) return s;
    const worker = new Worker(threadEntry(), { workerData: { memoryLimitBytes: this.opts.memoryLimitBytes }, execArgv: [] });
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (msg: { id: number; ok: boolean; packed?: string; name?: string; message?: string }) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (!msg.ok) return p.reject(rebuild(p.req, msg.name, msg.message));
      try {
        p.resolve(unpackEvaluation(p.req.rule.uri, msg.packed!));
      } catch (err) {
        p.reject(err as Error);
      }
    });
    const fail = (why: string) => this.replace(i, slot, (req) => new PolicyRuntimeError(req.rule.uri, why));
    worker.on('error', (err) => fail(`sandbox thread failed: ${err.message}`));
    worker.on('exit', (code) => fail(`sandbox thread exited (${code})`));
    this.slots[i] = slot;
    return slot;
  }

  /** Drops a thread, failing what it had in flight; the next evaluation starts a new one. */
  private replace(i: number, slot: Slot, error: (req: EvalRequest) => Error): void {
    if (this.slots[i] !== slot) return;
    this.slots[i] = undefined;
    for (const [id, p] of slot.pending) {
      clearTimeout(p.timer);
      slot.pending.delete(id);
      p.reject(error(p.req));
    }
    void slot.worker.terminate();
  }

  evaluate(req: EvalRequest): Promise<EvalResult> {
    if (this.closed) return Promise.reject(new PolicyRuntimeError(req.rule.uri, 'runtime is closed'));
    const i = fnv1a(req.rule.uri) % this.slots.length;
    const slot = this.slot(i);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.replace(i, slot, (r) => (r === req ? new PolicyTimeoutError(r.rule.uri, r.timeoutMs) : new PolicyRuntimeError(r.rule.uri, 'sandbox thread replaced after another rule overran'))),
        req.timeoutMs + (this.opts.graceMs ?? 1_000),
      );
      let args: string;
      try {
        args = JSON.stringify([req.parameters, req.input, req.context]);
      } catch (err) {
        clearTimeout(timer);
        return reject(new PolicyRuntimeError(req.rule.uri, `input is not JSON: ${(err as Error).message}`));
      }
      slot.pending.set(id, { resolve, reject, timer, req });
      slot.worker.postMessage({ id, rule: req.rule, args, timeoutMs: req.timeoutMs });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.slots.map((s, i) => s && (this.replace(i, s, (r) => new PolicyRuntimeError(r.rule.uri, 'runtime is closed')), s.worker.terminate())));
  }
}

function rebuild(req: EvalRequest, name?: string, message?: string): Error {
  if (name === 'PolicyTimeoutError') return new PolicyTimeoutError(req.rule.uri, req.timeoutMs);
  const err = new PolicyRuntimeError(req.rule.uri, '');
  err.message = message ?? 'unknown error';
  return err;
}
