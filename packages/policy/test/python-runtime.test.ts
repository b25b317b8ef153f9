import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JsonObject } from '@ccg/contracts';
import { PythonRuntime } from '../src/runtimes/python.js';
import { PolicyRuntimeError, PolicyTimeoutError, type EvalRequest, type PolicyRule } from '../src/runtime.js';

// The gateway's secrets; set before any runtime starts a process (they start lazily).
process.env.DATABASE_URL = 'postgres://secret@db/ccg';
process.env.KUBECONFIG_ENCRYPTION_KEY = 'ab'.repeat(32);

function rule(uri: string, code: string, extra: Partial<PolicyRule> = {}): PolicyRule {
  return {
    uri,
    runtime: 'python',
    code,
    sha256: createHash('sha256').update(code).digest('hex'),
    settings: {},
    parameters: {},
    ...extra,
  };
}

function req(r: PolicyRule, input: unknown, more: Partial<EvalRequest> = {}): EvalRequest {
  return { rule: r, parameters: {}, input, context: {}, timeoutMs: 5000, ...more };
}

/** A rule whose eval body is `body` (indented by the helper). */
function evalRule(uri: string, body: string, header = ''): PolicyRule {
  const indented = body
    .trim()
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n');
  return rule(
    uri,
    `${header}
class AIOSv1PolicyRule:
    def __init__(self, rule_id, settings, parameters):
        self.rule_id = rule_id
        self.settings = settings
        self.parameters = parameters

    def eval(self, parameters, input_data, context):
${indented}
`,
  );
}

const ok = evalRule('ok:v1', 'return {"allowed": True, "input_data": input_data}');

const runtimes: PythonRuntime[] = [];
function runtime(options: ConstructorParameters<typeof PythonRuntime>[0] = {}): PythonRuntime {
  const rt = new PythonRuntime(options);
  runtimes.push(rt);
  return rt;
}
afterAll(async () => {
  await Promise.all(runtimes.map((rt) => rt.close()));
});

describe('PythonRuntime evaluations', () => {
  const rt = runtime({ poolSize: 2 });

  it('allows with the input unchanged', async () => {
    const input = { node_data: { id: 'n1' }, cluster_data: { id: 'c1' } };
    const res = await rt.evaluate(req(ok, input));
    expect(res.output).toEqual({ allowed: true, input_data: input });
  });

  it('denies with a reason', async () => {
    const r = evalRule(
      'deny:v1',
      'return {"allowed": False, "input_data": {"reason": "cluster %s is frozen" % input_data["cluster_id"]}}',
    );
    const res = await rt.evaluate(req(r, { cluster_id: 'c9' }));
    expect(res.output).toEqual({ allowed: false, input_data: { reason: 'cluster c9 is frozen' } });
  });

  it('rewrites a field', async () => {
    const r = evalRule('rewrite:v1', 'input_data["node_data"]["labels"] = ["checked"]\nreturn {"allowed": True, "input_data": input_data}');
    const res = await rt.evaluate(req(r, { node_data: { id: 'n1' } }));
    expect(res.output).toEqual({ allowed: true, input_data: { node_data: { id: 'n1', labels: ['checked'] } } });
  });

  it('passes uri, settings and parameters to __init__ and the merged parameters to eval', async () => {
    const r = {
      ...evalRule(
        'params:v1',
        'return {"allowed": True, "input_data": {"rule_id": self.rule_id, "settings": self.settings, "init": self.parameters, "eval": parameters}}',
      ),
      settings: { region: 'eu' },
      parameters: { max_nodes: 3 },
    };
    const res = await rt.evaluate(req(r, {}, { parameters: { max_nodes: 5, extra: true } }));
    expect(res.output).toEqual({
      allowed: true,
      input_data: { rule_id: 'params:v1', settings: { region: 'eu' }, init: { max_nodes: 3 }, eval: { max_nodes: 5, extra: true } },
    });
  });

  it('keeps a warm instance: __init__ once, context counter 1, 2, 3', async () => {
    const r = rule(
      'counter:v1',
      `
INITS = 0

class AIOSv1PolicyRule:
    def __init__(self, rule_id, settings, parameters):
        global INITS
        INITS += 1

    def eval(self, parameters, input_data, context):
        context["count"] = context.get("count", 0) + 1
        return {"allowed": True, "input_data": {"count": context["count"], "inits": INITS}}
`,
    );
    let context: JsonObject = {};
    const seen: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await rt.evaluate(req(r, {}, { context }));
      context = res.context;
      seen.push(res.output);
    }
    expect(seen).toEqual([1, 2, 3].map((count) => ({ allowed: true, input_data: { count, inits: 1 } })));
    expect(context).toEqual({ count: 3 });

    // New code (new sha256) under the same URI is a new instance.
    const changed = { ...r, code: r.code + '\n# v2\n', sha256: 'f'.repeat(64) };
    const res = await rt.evaluate(req(changed, {}, { context }));
    expect(res.output).toEqual({ allowed: true, input_data: { count: 4, inits: 1 } });
  });

  it("a rule's print() and writes to stdout do not break the protocol", async () => {
    const r = evalRule(
      'print:v1',
      'print("hello from the rule")\nsys.stdout.write("{not json\\n")\nos.write(1, b"raw fd write\\n")\nreturn {"allowed": True, "input_data": input_data}',
      'import os, sys',
    );
    const res = await rt.evaluate(req(r, { a: 1 }));
    expect(res.output).toEqual({ allowed: true, input_data: { a: 1 } });
  });

  it('a raising rule gives PolicyRuntimeError with the Python error', async () => {
    const r = evalRule('raise:v1', 'raise ValueError("cluster is not ready")');
    const err = await rt.evaluate(req(r, {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect((err as Error).message).toContain('ValueError: cluster is not ready');
    expect((err as Error).message).toContain('raise:v1');
  });

  it('code without AIOSv1PolicyRule gives PolicyRuntimeError', async () => {
    const err = await rt.evaluate(req(rule('noclass:v1', 'x = 1'), {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect((err as Error).message).toContain('AIOSv1PolicyRule');
  });

  it('an infinite loop times out within timeout + 1 s and the process is replaced', async () => {
    const r = evalRule('loop:v1', 'while True:\n    pass');
    const started = Date.now();
    const err = await rt.evaluate(req(r, {}, { timeoutMs: 500 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyTimeoutError);
    expect(Date.now() - started).toBeLessThan(1500);
    const res = await rt.evaluate(req(ok, { after: 'timeout' }));
    expect(res.output).toEqual({ allowed: true, input_data: { after: 'timeout' } });
  });

  it('os._exit() inside eval gives PolicyRuntimeError and the runtime recovers', async () => {
    const r = evalRule('exit:v1', 'os._exit(3)', 'import os');
    const err = await rt.evaluate(req(r, {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect((err as Error).message).toContain('code 3');
    const res = await rt.evaluate(req(ok, { after: 'exit' }));
    expect(res.output).toEqual({ allowed: true, input_data: { after: 'exit' } });
  });

  it('sys.exit() inside eval is an error, not the end of the worker', async () => {
    const r = evalRule('sysexit:v1', 'sys.exit(2)', 'import sys');
    await expect(rt.evaluate(req(r, {}))).rejects.toThrow(PolicyRuntimeError);
    await expect(rt.evaluate(req(ok, {}))).resolves.toBeDefined();
  });

  it('non-JSON output (NaN) gives PolicyRuntimeError; odd types are stringified', async () => {
    const nan = evalRule('nan:v1', 'return {"allowed": True, "score": float("nan")}');
    await expect(rt.evaluate(req(nan, {}))).rejects.toThrow(/not JSON/);
    const odd = evalRule('odd:v1', 'return {"allowed": True, "at": datetime.date(2024, 1, 2)}', 'import datetime');
    expect((await rt.evaluate(req(odd, {}))).output).toEqual({ allowed: true, at: '2024-01-02' });
  });

  it('runs 10 concurrent evaluations on at most 2 processes', async () => {
    const r = evalRule('slow:v1', 'time.sleep(0.05)\nreturn {"allowed": True, "input_data": {"i": input_data["i"], "pid": os.getpid()}}', 'import os, time');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => rt.evaluate(req(r, { i }))));
    const outputs = results.map((res) => res.output as { input_data: { i: number; pid: number } });
    expect(outputs.map((o) => o.input_data.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(outputs.map((o) => o.input_data.pid)).size).toBeLessThanOrEqual(2);
  });
});

describe('PythonRuntime isolation', () => {
  it("rules cannot see the gateway's environment", async () => {
    const rt = runtime({ poolSize: 1 });
    const r = evalRule(
      'env:v1',
      'return {"db": os.environ.get("DATABASE_URL"), "key": os.environ.get("KUBECONFIG_ENCRYPTION_KEY"), "keys": sorted(os.environ), "cwd": os.getcwd()}',
      'import os',
    );
    const out = (await rt.evaluate(req(r, {}))).output as { db: unknown; key: unknown; keys: string[]; cwd: string };
    expect(out.db).toBeNull();
    expect(out.key).toBeNull();
    // LC_CTYPE may be added by Python's C-locale coercion on machines without C.UTF-8.
    expect(out.keys.filter((k) => k !== 'LC_CTYPE')).toEqual(['HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONNOUSERSITE']);
    expect(out.cwd).toBe(os.tmpdir());
  });

  it('a memory bomb is contained and the next evaluation works', async () => {
    const rt = runtime({ poolSize: 1, memoryLimitBytes: 256 * 1024 * 1024 });
    const bomb = evalRule('bomb:v1', 'x = "a" * (2**33)\nreturn {"allowed": True}');
    const err = await rt.evaluate(req(bomb, {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect((err as Error).message).toContain('MemoryError');

    // Growing the instance itself: the instance is dropped so the memory is freed.
    const hoard = evalRule('hoard:v1', 'self.hoard = []\nwhile True:\n    self.hoard.append(bytearray(10 * 1024 * 1024))');
    const err2 = await rt.evaluate(req(hoard, {}, { timeoutMs: 10_000 })).catch((e: unknown) => e);
    expect(err2 instanceof PolicyRuntimeError || err2 instanceof PolicyTimeoutError).toBe(true);

    const res = await rt.evaluate(req(ok, { after: 'bomb' }));
    expect(res.output).toEqual({ allowed: true, input_data: { after: 'bomb' } });
  });

  it('close() rejects queued work and later calls', async () => {
    const rt = runtime({ poolSize: 1 });
    const slow = evalRule('sleep:v1', 'time.sleep(5)', 'import time');
    const running = rt.evaluate(req(slow, {})).catch((e: unknown) => e);
    const queued = rt.evaluate(req(ok, {})).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await rt.close();
    expect(await running).toBeInstanceOf(PolicyRuntimeError);
    expect(await queued).toBeInstanceOf(PolicyRuntimeError);
    await expect(rt.evaluate(req(ok, {}))).rejects.toThrow(/closed/);
  });
});

describe('PythonRuntime.extractArchive', () => {
  const rt = runtime({ poolSize: 1 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'policy-archive-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const functionPy = 'class AIOSv1PolicyRule:\n    def __init__(self, rule_id, settings, parameters):\n        pass\n\n    def eval(self, parameters, input_data, context):\n        return {"allowed": True, "input_data": "from-archive"}\n';

  /** Archive file name -> member name -> text; all built by one python3 run (tar mode from the extension). */
  const specs: Record<string, Record<string, string>> = {
    'rule.zip': { 'code/function.py': functionPy, 'code/requirements.txt': 'requests==2.32.3\n' },
    'rule.tar.gz': { './code/function.py': functionPy },
    'rule.tar.xz': { 'code/function.py': functionPy },
    'bad.zip': { 'function.py': functionPy },
  };
  const archive = (name: string): Buffer => readFileSync(path.join(dir, name));
  beforeAll(() => {
    const script = `
import io, json, os, sys, tarfile, zipfile
for name, files in json.loads(sys.argv[2]).items():
    out = os.path.join(sys.argv[1], name)
    if out.endswith(".zip"):
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for n, t in files.items(): z.writestr(n, t)
    else:
        with tarfile.open(out, "w:" + out.rsplit(".", 1)[1]) as tf:
            for n, t in files.items():
                data = t.encode(); info = tarfile.TarInfo(n); info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
`;
    execFileSync('python3', ['-c', script, dir, JSON.stringify(specs)]);
  });

  it('reads code/function.py and requirements.txt from a zip', async () => {
    const res = await rt.extractArchive(archive('rule.zip'));
    expect(res).toEqual({ code: functionPy, requirements: 'requests==2.32.3\n' });
    const out = await rt.evaluate(req(rule('archived:v1', res.code), {}));
    expect(out.output).toEqual({ allowed: true, input_data: 'from-archive' });
  });

  it('reads a tar.gz (with ./ prefixes) and a tar.xz; requirements are optional', async () => {
    expect(await rt.extractArchive(archive('rule.tar.gz'))).toEqual({ code: functionPy, requirements: null });
    expect(await rt.extractArchive(archive('rule.tar.xz'))).toEqual({ code: functionPy, requirements: null });
  });

  it('fails clearly without code/function.py or on garbage', async () => {
    const err = await rt.extractArchive(archive('bad.zip')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect((err as Error).message).toContain('code/function.py');
    await expect(rt.extractArchive(Buffer.from('not an archive'))).rejects.toThrow(/not a zip or tar archive/);
  });
});
