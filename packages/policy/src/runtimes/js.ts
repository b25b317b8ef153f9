/**
 * Sandboxed JavaScript policy rules on QuickJS (quickjs-emscripten, wasm).
 *
 * Each rule (uri + sha256) gets its own sandbox: a private wasm instance with a capped
 * WebAssembly.Memory, one QuickJS runtime and context, and ONE warm `AIOSv1PolicyRule` instance.
 * Nothing of the host is exposed: no host functions, no module loader, no timers. Only JSON text
 * crosses the boundary, through a small prelude evaluated before the rule's source.
 *
 * Why a wasm instance per rule rather than the shared `getQuickJS()` singleton:
 * - QuickJS's `setMemoryLimit` is not a byte limit in this build (emscripten has no
 *   malloc_usable_size, so it counts about 8 bytes per allocation): under a "32 MiB" limit a rule
 *   can fill the whole 2 GiB wasm heap, shared by every rule. A capped memory per instance is the
 *   real limit.
 * - A deep native recursion can overflow the host (V8) stack inside wasm, which unwinds QuickJS
 *   without cleanup; the instance must then be thrown away, and only that rule's one is.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { JsonObject } from '@ccg/contracts';
import {
  RELEASE_SYNC,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import {
  PolicyRuntimeError,
  PolicyTimeoutError,
  type EvalRequest,
  type EvalResult,
  type PolicyRule,
  type PolicyRuntime,
} from '../runtime.js';

export interface JsRuntimeOptions {
  /** Memory a rule's sandbox may use beyond the engine's fixed 16 MiB (default 32 MiB). */
  memoryLimitBytes?: number;
  /**
   * QuickJS stack limit in bytes (default 64 KiB, about 330 nested JS calls). QuickJS measures
   * only its shadow stack; the host stack actually used is many times larger, so large values let
   * deep recursion overflow the host stack instead (still contained: the sandbox is dropped).
   * Clamped to 16 KiB..4 MiB.
   */
  maxStackBytes?: number;
}

const MiB = 1024 * 1024;
const WASM_PAGE = 64 * 1024;
/** The prebuilt wasm imports its memory and requires at least 256 pages (16 MiB). */
const WASM_MIN_PAGES = 256;
const WASM_MAX_PAGES = 32_768; // 2 GiB, the build's own ceiling
const DEFAULT_MEMORY_LIMIT = 32 * MiB;
const DEFAULT_MAX_STACK = 64 * 1024;
const MIN_STACK = 16 * 1024;
const MAX_STACK = 4 * MiB;

/** Markers the prelude returns instead of a packed `[output, context]` JSON text. */
const PENDING = '';
const NOTHING = 'U';
const NEVER_SETTLED = 'P';

/**
 * Evaluated before the rule's source, so it holds the original JSON and Promise functions even if
 * the rule replaces the globals. Evaluates to `{init, call}`; the instance lives in its closure.
 * `call(json)` runs `eval` and returns the packed result, or PENDING for a thenable, in which case
 * the host runs the pending jobs and calls `call()` without argument to collect the outcome.
 */
const PRELUDE = `(() => {
  'use strict';
  const parse = JSON.parse, stringify = JSON.stringify, resolve = Promise.resolve.bind(Promise);
  let rule, pending = null;
  const pack = (out, context) => {
    if (out === undefined) return '${NOTHING}';
    const text = stringify(out);
    if (typeof text !== 'string') throw new TypeError('eval returned a value that is not JSON');
    return '[' + text + ',' + stringify(context) + ']';
  };
  const settle = () => {
    const p = pending;
    pending = null;
    if (p === null || !p.done) return '${NEVER_SETTLED}';
    if (!p.ok) throw p.value;
    return pack(p.value, p.context);
  };
  return {
    init(json) {
      if (typeof AIOSv1PolicyRule !== 'function') return 'missing';
      const a = parse(json);
      rule = new AIOSv1PolicyRule(a[0], a[1], a[2]);
      return rule !== null && typeof rule === 'object' && typeof rule.eval === 'function' ? 'ok' : 'noeval';
    },
    call(json) {
      if (json === undefined) return settle();
      const a = parse(json);
      const out = rule.eval(a[0], a[1], a[2]);
      if (out === null || (typeof out !== 'object' && typeof out !== 'function') || typeof out.then !== 'function') {
        return pack(out, a[2]);
      }
      const p = (pending = { done: false, ok: false, value: undefined, context: a[2] });
      resolve(out).then(
        (v) => { p.done = true; p.ok = true; p.value = v; },
        (e) => { p.done = true; p.value = e; },
      );
      return '${PENDING}';
    },
  };
})()`;

/** One rule's sandbox. `deadline` is read by the interrupt handler installed at creation. */
class RuleSandbox {
  deadline = 0;
  timeoutMs = 0;
  interrupted = false;
  callFn: QuickJSHandle | undefined;
  /** Set when the sandbox must not be reused; it is disposed once the host calls have unwound. */
  broken = false;
  private finished = false;

  constructor(
    readonly key: string,
    readonly uri: string,
    readonly rt: QuickJSRuntime,
    readonly ctx: QuickJSContext,
  ) {}

  /** Starts the CPU-time budget of one evaluation (checked by QuickJS's interrupt handler). */
  arm(deadline: number, timeoutMs: number): void {
    this.deadline = deadline;
    this.timeoutMs = timeoutMs;
    this.interrupted = false;
  }

  /** After a crash the wasm instance's state is unknown: leave it to the GC without calling into it. */
  abandon(): void {
    this.finished = true;
  }

  /** Frees the QuickJS objects (once). A failure only means the private wasm instance is left to the GC. */
  dispose(): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.callFn?.dispose();
      this.ctx.dispose();
      this.rt.dispose();
    } catch {
      // Nothing else shares this instance.
    }
  }
}

let compiledWasm: Promise<WebAssembly.Module | undefined> | undefined;

/**
 * Compiles the QuickJS wasm once per process, so a new sandbox only instantiates it (~1-2 ms
 * instead of ~10 ms). Without it (file not found) emscripten loads the file itself.
 */
function quickJsWasm(): Promise<WebAssembly.Module | undefined> {
  compiledWasm ??= (async () => {
    try {
      const fromQuickJs = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'));
      return await WebAssembly.compile(await readFile(fromQuickJs.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')));
    } catch {
      return undefined;
    }
  })();
  return compiledWasm;
}

/** A fresh wasm instance whose memory cannot grow past 16 MiB + `memoryLimitBytes`. */
async function newWasmInstance(memoryLimitBytes: number): Promise<QuickJSWASMModule> {
  const wasmModule = await quickJsWasm();
  const maximum = Math.min(WASM_MAX_PAGES, WASM_MIN_PAGES + Math.ceil(memoryLimitBytes / WASM_PAGE));
  const wasmMemory = new WebAssembly.Memory({ initial: WASM_MIN_PAGES, maximum });
  return newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, wasmModule ? { wasmMemory, wasmModule } : { wasmMemory }));
}

function ruleKey(rule: PolicyRule): string {
  return rule.uri + '@' + rule.sha256;
}

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text of a value thrown inside the sandbox, as `ctx.dump` returns it. */
function describeThrown(thrown: unknown): string {
  if (isJsonObject(thrown) && typeof thrown.message === 'string') {
    return typeof thrown.name === 'string' && thrown.name !== '' ? `${thrown.name}: ${thrown.message}` : thrown.message;
  }
  if (typeof thrown === 'string') return thrown;
  return JSON.stringify(thrown) ?? String(thrown);
}

function isPolicyError(err: unknown): boolean {
  return err instanceof PolicyTimeoutError || err instanceof PolicyRuntimeError;
}

/** Turns the packed `[output, context]` text of an evaluation into its result, or its error. */
export function unpackEvaluation(uri: string, packed: string): EvalResult {
  if (packed === NOTHING) throw new PolicyRuntimeError(uri, 'eval returned nothing');
  if (packed === NEVER_SETTLED) throw new PolicyRuntimeError(uri, 'eval returned a promise that never settled');
  let parsed: unknown;
  try {
    parsed = JSON.parse(packed);
  } catch {
    throw new PolicyRuntimeError(uri, 'eval output or context is not JSON');
  }
  const [output, context] = parsed as [unknown, unknown];
  if (!isJsonObject(context)) throw new PolicyRuntimeError(uri, 'the context is no longer a JSON object');
  return { output, context };
}

export class JsRuntime implements PolicyRuntime {
  readonly name = 'js' as const;
  private readonly memoryLimitBytes: number;
  private readonly maxStackBytes: number;
  private readonly sandboxes = new Map<string, RuleSandbox>();
  private closed = false;

  constructor(opts: JsRuntimeOptions = {}) {
    this.memoryLimitBytes = opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
    // QuickJS's check is all that guards the wasm shadow stack (about 5 MiB): keep under it.
    this.maxStackBytes = Math.min(Math.max(opts.maxStackBytes ?? DEFAULT_MAX_STACK, MIN_STACK), MAX_STACK);
  }

  async evaluate(req: EvalRequest): Promise<EvalResult> {
    const args = this.serialise(req.rule.uri, [req.parameters, req.input, req.context]);
    return this.unpack(req.rule.uri, await this.evaluatePacked(req.rule, args, req.timeoutMs));
  }

  /**
   * The same with JSON text in and out: `args` is `[parameters, input, context]`, the result is
   * `[output, context]` (or a marker that `unpack` turns into an error). The thread pool uses it so
   * only strings cross threads.
   */
  async evaluatePacked(rule: PolicyRule, args: string, timeoutMs: number): Promise<string> {
    // Taken first so that loading and constructing a cold rule count toward its time limit.
    const deadline = Date.now() + timeoutMs;
    const sandbox = this.sandboxes.get(ruleKey(rule)) ?? (await this.start(rule, deadline, timeoutMs));
    return this.guard(sandbox, () => {
      sandbox.arm(deadline, timeoutMs);
      return this.call(sandbox, args);
    });
  }


  async close(): Promise<void> {
    this.closed = true;
    for (const sandbox of this.sandboxes.values()) sandbox.dispose();
    this.sandboxes.clear();
  }

  // --- creating a rule's sandbox ---

  private async start(rule: PolicyRule, deadline: number, timeoutMs: number): Promise<RuleSandbox> {
    this.assertOpen(rule.uri);
    const wasm = await newWasmInstance(this.memoryLimitBytes);
    this.assertOpen(rule.uri);
    // A concurrent first evaluation of the same rule may have finished meanwhile.
    const existing = this.sandboxes.get(ruleKey(rule));
    if (existing) return existing;

    const sandbox = this.newSandbox(wasm, rule);
    try {
      this.guard(sandbox, () => {
        sandbox.arm(deadline, timeoutMs);
        this.load(sandbox, rule);
      });
    } catch (err) {
      sandbox.dispose(); // a no-op if already dropped or abandoned
      throw err;
    }
    this.replace(sandbox);
    return sandbox;
  }

  private newSandbox(wasm: QuickJSWASMModule, rule: PolicyRule): RuleSandbox {
    const rt = wasm.newRuntime();
    rt.setMemoryLimit(this.memoryLimitBytes);
    rt.setMaxStackSize(this.maxStackBytes);
    const sandbox = new RuleSandbox(ruleKey(rule), rule.uri, rt, rt.newContext());
    rt.setInterruptHandler(() => {
      if (Date.now() <= sandbox.deadline) return false;
      sandbox.interrupted = true;
      return true;
    });
    return sandbox;
  }

  /** Prelude, rule source, then the one instance: `new AIOSv1PolicyRule(uri, settings, parameters)`. */
  private load(sandbox: RuleSandbox, rule: PolicyRule): void {
    const { ctx } = sandbox;
    const api = this.value(sandbox, ctx.evalCode(PRELUDE, 'ccg-prelude.js', { type: 'global' }), '');
    const init = ctx.getProp(api, 'init');
    sandbox.callFn = ctx.getProp(api, 'call');
    api.dispose();
    let status: string;
    try {
      this.value(sandbox, ctx.evalCode(rule.code, `${rule.uri}.js`, { type: 'global' }), 'loading failed: ').dispose();
      const args = ctx.newString(this.serialise(rule.uri, [rule.uri, rule.settings, rule.parameters]));
      try {
        status = this.text(sandbox, ctx.callFunction(init, ctx.undefined, args), 'constructor failed: ');
      } finally {
        args.dispose();
      }
    } finally {
      init.dispose();
    }
    if (status === 'missing') throw new PolicyRuntimeError(rule.uri, 'does not define class AIOSv1PolicyRule');
    if (status !== 'ok') throw new PolicyRuntimeError(rule.uri, 'AIOSv1PolicyRule has no eval method');
  }

  /** Makes `sandbox` the rule's warm one; an older sha256 of the same uri is obsolete. */
  private replace(sandbox: RuleSandbox): void {
    for (const other of this.sandboxes.values()) {
      if (other.uri === sandbox.uri) {
        this.retire(other);
        other.dispose();
      }
    }
    this.sandboxes.set(sandbox.key, sandbox);
  }

  // --- one evaluation ---

  /** Runs `eval` and returns the packed `[output, context]`, settling a returned promise. */
  private call(sandbox: RuleSandbox, args: string): string {
    const { ctx, rt } = sandbox;
    const arg = ctx.newString(args);
    let packed: string;
    try {
      packed = this.text(sandbox, ctx.callFunction(sandbox.callFn!, ctx.undefined, arg), '');
    } finally {
      arg.dispose();
    }
    // Also drains jobs a synchronous rule left behind, so they cannot pile up across evaluations.
    if (packed === PENDING || rt.hasPendingJob()) this.runJobs(sandbox);
    if (packed === PENDING) packed = this.text(sandbox, ctx.callFunction(sandbox.callFn!, ctx.undefined), '');
    return packed;
  }

  /** Runs every pending job (promise reactions) within the evaluation's deadline. */
  private runJobs(sandbox: RuleSandbox): void {
    const jobs = sandbox.rt.executePendingJobs();
    if (jobs.error) throw this.failure(sandbox, jobs.error, '');
  }

  private unpack(uri: string, packed: string): EvalResult {
    return unpackEvaluation(uri, packed);
  }


  // --- results and failures ---

  /** The value of a sandbox call, or the matching policy error thrown. */
  private value(sandbox: RuleSandbox, result: ReturnType<QuickJSContext['evalCode']>, what: string): QuickJSHandle {
    if (result.error) throw this.failure(sandbox, result.error, what);
    return result.value;
  }

  private text(sandbox: RuleSandbox, result: ReturnType<QuickJSContext['evalCode']>, what: string): string {
    const handle = this.value(sandbox, result, what);
    try {
      return sandbox.ctx.getString(handle);
    } finally {
      handle.dispose();
    }
  }

  /**
   * The policy error for an exception raised in the sandbox. A timeout or an exhausted memory
   * leaves the sandbox in an unknown state, so it is dropped (the next evaluation rebuilds it);
   * an ordinary exception of the rule keeps the warm instance.
   */
  private failure(sandbox: RuleSandbox, error: QuickJSHandle, what: string): Error {
    if (sandbox.interrupted) {
      error.dispose();
      this.retire(sandbox);
      return new PolicyTimeoutError(sandbox.uri, sandbox.timeoutMs);
    }
    let thrown: unknown;
    try {
      thrown = sandbox.ctx.dump(error);
    } catch {
      thrown = null;
    } finally {
      error.dispose();
    }
    const message = what + describeThrown(thrown);
    const limit = `(limit ${this.memoryLimitBytes} bytes)`;
    if (/out of memory/i.test(message)) {
      this.retire(sandbox);
      return new PolicyRuntimeError(sandbox.uri, `out of memory ${limit}: ${message}`);
    }
    // QuickJS throws null when it cannot even allocate its "out of memory" error.
    if (thrown === null || thrown === undefined) {
      this.retire(sandbox);
      return new PolicyRuntimeError(sandbox.uri, `${what}threw ${String(thrown)}, most likely out of memory ${limit}`);
    }
    return new PolicyRuntimeError(sandbox.uri, message);
  }

  /**
   * Runs host calls into the sandbox. Policy errors pass through; anything else escaped from the
   * wasm instance itself (host stack overflow, wasm trap), so it is abandoned without touching it.
   */
  private guard<T>(sandbox: RuleSandbox, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (isPolicyError(err)) throw err;
      this.retire(sandbox);
      sandbox.abandon();
      throw new PolicyRuntimeError(sandbox.uri, `sandbox crashed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      if (sandbox.broken) sandbox.dispose();
    }
  }

  /** Takes a sandbox out of service; `guard` disposes it when the calls in progress have unwound. */
  private retire(sandbox: RuleSandbox): void {
    sandbox.broken = true;
    if (this.sandboxes.get(sandbox.key) === sandbox) this.sandboxes.delete(sandbox.key);
  }

  private serialise(uri: string, value: unknown): string {
    try {
      return JSON.stringify(value);
    } catch (err) {
      throw new PolicyRuntimeError(uri, `input is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private assertOpen(uri: string): void {
    if (this.closed) throw new PolicyRuntimeError(uri, 'the js runtime is closed');
  }
}
