import type { JsonObject } from '@ccg/contracts';
import { PolicyRuntimeError, PolicyTimeoutError, type EvalRequest, type EvalResult, type PolicyRuntime } from './runtime.js';

interface RemoteTarget {
  url: string;
  executor_id: string;
  policy_rule_uri: string;
}

/**
 * The AIOS remote executor protocol: `POST {url}/executor/{executor_id}/execute_policy` with
 * `{policy_rule_uri, input_data, parameters}`. The executor answers 202 (or 200) with
 * `{success, data}`, where `data` may itself be `{success: false, message}` when the rule raised,
 * or a second envelope when the policies system re-wraps the executor's answer.
 * Settings are not sent (the protocol has no field for them); context stays local.
 */
export class RemoteRuntime implements PolicyRuntime {
  readonly name = 'remote' as const;

  async evaluate(req: EvalRequest): Promise<EvalResult> {
    let target: RemoteTarget;
    try {
      target = JSON.parse(req.rule.code) as RemoteTarget;
    } catch {
      throw new PolicyRuntimeError(req.rule.uri, 'remote rule has no executor settings');
    }
    const url = `${target.url}/executor/${encodeURIComponent(target.executor_id)}/execute_policy`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ policy_rule_uri: target.policy_rule_uri, input_data: req.input, parameters: req.parameters }),
        signal: AbortSignal.timeout(req.timeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') throw new PolicyTimeoutError(req.rule.uri, req.timeoutMs);
      throw new PolicyRuntimeError(req.rule.uri, `executor unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new PolicyRuntimeError(req.rule.uri, `executor answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) throw new PolicyRuntimeError(req.rule.uri, `executor answered ${res.status}: ${text.slice(0, 500)}`);
    return { output: unwrap(req.rule.uri, body), context: req.context };
  }

  async close(): Promise<void> {}
}

/** Peels `{success, data}` envelopes until the rule's own output (which has `allowed`) appears. */
function unwrap(uri: string, body: unknown): unknown {
  let value = body;
  for (let depth = 0; depth < 4; depth++) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
    const o = value as JsonObject;
    if ('allowed' in o) return o;
    if (o.success === false) throw new PolicyRuntimeError(uri, `executor reported failure: ${String(o.message ?? o.error ?? o.data ?? 'no message')}`);
    if ('success' in o && 'data' in o) {
      value = o.data;
      continue;
    }
    return o;
  }
  return value;
}
