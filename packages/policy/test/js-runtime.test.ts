import { afterAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { JsonObject } from '@ccg/contracts';
import { JsRuntime } from '../src/runtimes/js.js';
import { PolicyRuntimeError, PolicyTimeoutError, type EvalRequest, type PolicyRule } from '../src/runtime.js';

const runtime = new JsRuntime();
afterAll(() => runtime.close());

let seq = 0;

/** A rule whose eval body is `body` (with `parameters`, `input_data`, `context` in scope). */
function rule(body: string, extra: Partial<PolicyRule> = {}): PolicyRule {
  const code = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {
    this.ruleId = ruleId; this.settings = settings; this.parameters = parameters;
  }
  eval(parameters, input_data, context) { ${body} }
}`;
  return fromCode(code, extra);
}

function fromCode(code: string, extra: Partial<PolicyRule> = {}): PolicyRule {
  return {
    uri: `test.js-runtime.rule-${++seq}:v0.0.1-stable`,
    runtime: 'js',
    code,
    sha256: createHash('sha256').update(code).digest('hex'),
    settings: {},
    parameters: {},
    ...extra,
  };
}

function req(r: PolicyRule, input: unknown, more: Partial<EvalRequest> = {}): EvalRequest {
  return { rule: r, parameters: r.parameters, input, context: {}, timeoutMs: 1000, ...more };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the evaluation to fail');
}

describe('JsRuntime', () => {
  it('allows and returns the input unchanged', async () => {
    const input = { node_data: { id: 'n1', gpus: 2 }, cluster_data: { id: 'c1' } };
    const res = await runtime.evaluate(req(rule('return { allowed: true, input_data };'), input));
    expect(res.output).toEqual({ allowed: true, input_data: input });
    expect(res.context).toEqual({});
  });

  it('denies with a reason object', async () => {
    const r = rule(`return { allowed: false, input_data: { reason: 'too many gpus', gpus: input_data.gpus } };`);
    const res = await runtime.evaluate(req(r, { gpus: 9 }));
    expect(res.output).toEqual({ allowed: false, input_data: { reason: 'too many gpus', gpus: 9 } });
  });

  it('rewrites a field of the input', async () => {
    const input = { node_data: { id: 'n1', labels: ['a'] } };
    const r = rule(`input_data.node_data.labels.push('checked'); return { allowed: true, input_data };`);
    const res = await runtime.evaluate(req(r, input));
    expect(res.output).toEqual({ allowed: true, input_data: { node_data: { id: 'n1', labels: ['a', 'checked'] } } });
    expect(input.node_data.labels).toEqual(['a']); // only JSON crossed the boundary
  });

  it('passes uri, settings and parameters to the constructor and the eval parameters to eval', async () => {
    const r = rule(
      `return { allowed: true, input_data: { ruleId: this.ruleId, settings: this.settings, ctor: this.parameters, now: parameters } };`,
      { settings: { mode: 'strict' }, parameters: { maxGpus: 4 } },
    );
    const res = await runtime.evaluate(req(r, {}, { parameters: { maxGpus: 8, extra: true } }));
    expect(res.output).toEqual({
      allowed: true,
      input_data: { ruleId: r.uri, settings: { mode: 'strict' }, ctor: { maxGpus: 4 }, now: { maxGpus: 8, extra: true } },
    });
  });

  it('keeps one warm instance: the constructor runs once and the context persists', async () => {
    const r = fromCode(`
      let constructions = 0;
      class AIOSv1PolicyRule {
        constructor() { constructions += 1; this.evals = 0; }
        eval(parameters, input_data, context) {
          this.evals += 1;
          context.count = (context.count || 0) + 1;
          return { allowed: true, input_data: { constructions, evals: this.evals } };
        }
      }`);
    let context: JsonObject = {};
    for (const n of [1, 2, 3]) {
      const res = await runtime.evaluate(req(r, {}, { context }));
      expect(res.context).toEqual({ count: n });
      expect(res.output).toEqual({ allowed: true, input_data: { constructions: 1, evals: n } });
      context = res.context;
    }
  });

  it('uses the resolved value of an async eval', async () => {
    const r = rule(`return (async () => { await null; context.seen = true; return { allowed: true, input_data }; })();`);
    const res = await runtime.evaluate(req(r, { a: 1 }));
    expect(res.output).toEqual({ allowed: true, input_data: { a: 1 } });
    expect(res.context).toEqual({ seen: true });
  });

  it('times out an infinite loop, then still evaluates other rules and the same rule again', async () => {
    const looping = rule(`if (input_data.loop) { while (true) {} } return { allowed: true, input_data };`);
    const timeoutMs = 200;
    const started = Date.now();
    const err = await rejection(runtime.evaluate(req(looping, { loop: true }, { timeoutMs })));
    expect(err).toBeInstanceOf(PolicyTimeoutError);
    expect(Date.now() - started).toBeLessThan(timeoutMs + 500);

    const other = await runtime.evaluate(req(rule('return { allowed: true, input_data };'), { b: 2 }));
    expect(other.output).toEqual({ allowed: true, input_data: { b: 2 } });
    const again = await runtime.evaluate(req(looping, { loop: false }));
    expect(again.output).toEqual({ allowed: true, input_data: { loop: false } });
  });

  it('counts construction toward the first evaluation\'s time limit', async () => {
    const r = fromCode(`class AIOSv1PolicyRule { constructor() { while (true) {} } eval() { return 1; } }`);
    const started = Date.now();
    const err = await rejection(runtime.evaluate(req(r, {}, { timeoutMs: 150 })));
    expect(err).toBeInstanceOf(PolicyTimeoutError);
    expect(Date.now() - started).toBeLessThan(150 + 500);
  });

  it('cannot catch its own timeout', async () => {
    const r = rule(`while (true) { try { while (true) {} } catch (e) {} }`);
    const err = await rejection(runtime.evaluate(req(r, {}, { timeoutMs: 100 })));
    expect(err).toBeInstanceOf(PolicyTimeoutError);
  });

  it.each([
    ['strings', `const a = []; while (true) a.push('x'.repeat(100000) + a.length);`],
    ['objects', `const a = []; while (true) a.push({ a: 1, b: [1, 2, 3] });`],
    ['typed arrays', `const a = []; while (true) a.push(new Uint8Array(1 << 20));`],
  ])('contains a memory bomb made of %s', async (_kind, body) => {
    const small = new JsRuntime({ memoryLimitBytes: 8 * 1024 * 1024 });
    try {
      const r = rule(body);
      const err = await rejection(small.evaluate(req(r, {}, { timeoutMs: 5000 })));
      expect(err).toBeInstanceOf(PolicyRuntimeError);
      expect(err.message).toMatch(/memory/);
      // The sandbox is rebuilt and usable afterwards.
      const ok = await small.evaluate(req(rule('return { allowed: true, input_data };'), { c: 3 }));
      expect(ok.output).toEqual({ allowed: true, input_data: { c: 3 } });
    } finally {
      await small.close();
    }
  });

  it('contains deep recursion', async () => {
    const r = rule(`const f = (n) => f(n + 1) + 1; return f(0);`);
    const err = await rejection(runtime.evaluate(req(r, {})));
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect(err.message).toMatch(/stack overflow/);
  });

  it('survives a host stack overflow inside the sandbox', async () => {
    // A huge QuickJS stack limit lets the parser recurse until V8's own stack runs out.
    const big = new JsRuntime({ maxStackBytes: 4 * 1024 * 1024 });
    try {
      const err = await rejection(big.evaluate(req(rule(`return eval('['.repeat(1000000));`), {})));
      expect(err).toBeInstanceOf(PolicyRuntimeError);
      const ok = await big.evaluate(req(rule('return { allowed: true, input_data };'), { d: 4 }));
      expect(ok.output).toEqual({ allowed: true, input_data: { d: 4 } });
    } finally {
      await big.close();
    }
  });

  it('exposes nothing of the host', async () => {
    const r = rule(`return {
      require: typeof require, process: typeof process, fetch: typeof fetch, xhr: typeof XMLHttpRequest,
      std: typeof globalThis.std, os: typeof globalThis.os, console: typeof console, setTimeout: typeof setTimeout,
      viaFunction: new Function('return typeof process + "/" + typeof require')(),
      viaConstructor: (() => {}).constructor('return typeof globalThis.process')(),
    };`);
    const res = await runtime.evaluate(req(r, {}));
    expect(res.output).toEqual({
      require: 'undefined', process: 'undefined', fetch: 'undefined', xhr: 'undefined',
      std: 'undefined', os: 'undefined', console: 'undefined', setTimeout: 'undefined',
      viaFunction: 'undefined/undefined', viaConstructor: 'undefined',
    });
  });

  it('keeps rules apart from each other', async () => {
    await runtime.evaluate(req(rule(`globalThis.shared = 'secret'; return 1;`), {}));
    const res = await runtime.evaluate(req(rule(`return typeof shared;`), {}));
    expect(res.output).toBe('undefined');
  });

  it('cannot import a host module', async () => {
    const r = rule(`return (async () => {
      try {
        const fs = await import('node:fs');
        return { allowed: true, input_data: fs.readFileSync('/etc/hostname', 'utf8') };
      } catch (e) {
        return { allowed: false, input_data: String(e) };
      }
    })();`);
    const res = await runtime.evaluate(req(r, {}));
    expect(res.output).toMatchObject({ allowed: false });
    const direct = await rejection(runtime.evaluate(req(rule(`return import('fs');`), {})));
    expect(direct).toBeInstanceOf(PolicyRuntimeError);
  });

  it('rejects a source without the class', async () => {
    const err = await rejection(runtime.evaluate(req(fromCode('class SomethingElse {}'), {})));
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect(err.message).toMatch(/does not define class AIOSv1PolicyRule/);
  });

  it('reports a syntax error in the source', async () => {
    const err = await rejection(runtime.evaluate(req(fromCode('class AIOSv1PolicyRule {'), {})));
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect(err.message).toMatch(/SyntaxError/);
  });

  it('reports what a rule throws and keeps its warm instance', async () => {
    const r = fromCode(`
      let constructions = 0;
      class AIOSv1PolicyRule {
        constructor() { constructions += 1; }
        eval(parameters, input_data) {
          if (input_data.fail) throw new Error('node pool is frozen');
          return { allowed: true, input_data: { constructions } };
        }
      }`);
    const err = await rejection(runtime.evaluate(req(r, { fail: true })));
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect(err.message).toMatch(/node pool is frozen/);
    const ok = await runtime.evaluate(req(r, { fail: false }));
    expect(ok.output).toEqual({ allowed: true, input_data: { constructions: 1 } });
  });

  it('reports a rejected promise', async () => {
    const err = await rejection(runtime.evaluate(req(rule(`return Promise.reject(new TypeError('no quota'));`), {})));
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect(err.message).toMatch(/TypeError: no quota/);
  });

  it('fails when eval returns nothing or something that is not JSON', async () => {
    const nothing = await rejection(runtime.evaluate(req(rule('return;'), {})));
    expect(nothing).toBeInstanceOf(PolicyRuntimeError);
    expect(nothing.message).toMatch(/eval returned nothing/);
    const fn = await rejection(runtime.evaluate(req(rule('return () => 1;'), {})));
    expect(fn).toBeInstanceOf(PolicyRuntimeError);
    const big = await rejection(runtime.evaluate(req(rule('return { n: 10n };'), {})));
    expect(big).toBeInstanceOf(PolicyRuntimeError);
  });

  it('builds a new instance for a new sha256 of the same uri', async () => {
    const v1 = rule(`return { allowed: true, input_data: 'v1' };`);
    const code2 = v1.code.replace("'v1'", "'v2'");
    const v2: PolicyRule = { ...v1, code: code2, sha256: createHash('sha256').update(code2).digest('hex') };
    expect((await runtime.evaluate(req(v1, {}))).output).toEqual({ allowed: true, input_data: 'v1' });
    expect((await runtime.evaluate(req(v2, {}))).output).toEqual({ allowed: true, input_data: 'v2' });
    // The old sha256 was dropped, not corrupted: asking for it builds it again.
    expect((await runtime.evaluate(req(v1, {}))).output).toEqual({ allowed: true, input_data: 'v1' });
  });

  it('builds one instance when the first evaluations of a rule run concurrently', async () => {
    const r = fromCode(`
      let constructions = 0;
      class AIOSv1PolicyRule {
        constructor() { constructions += 1; }
        eval() { return { allowed: true, input_data: constructions }; }
      }`);
    const results = await Promise.all([1, 2, 3].map(() => runtime.evaluate(req(r, {}))));
    const after = await runtime.evaluate(req(r, {}));
    expect(after.output).toEqual({ allowed: true, input_data: 1 });
    expect(results.map((x) => x.output)).toEqual([1, 2, 3].map(() => ({ allowed: true, input_data: 1 })));
  });

  it('refuses evaluations after close', async () => {
    const closed = new JsRuntime();
    await closed.close();
    const err = await rejection(closed.evaluate(req(rule('return { allowed: true, input_data };'), {})));
    expect(err).toBeInstanceOf(PolicyRuntimeError);
  });
});
