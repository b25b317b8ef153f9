import { createHash } from 'node:crypto';
import type { PolicyRule } from './runtime.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function builtin(uri: string, description: string, code: string): PolicyRule & { description: string; builtin: true } {
  return { uri, runtime: 'js', code, sha256: sha(code), settings: {}, parameters: {}, description, builtin: true };
}

/** Rules shipped with the gateway: always resolvable, listed by GET /policies, never deletable. */
export const BUILTIN_RULES = [
  builtin(
    'aiosv1.policies.builtin.allow-all:v1.0.0-stable',
    'Allows every action and leaves its input unchanged.',
    `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) { this.ruleId = ruleId; }
  eval(parameters, inputData, context) { return { allowed: true, input_data: inputData }; }
}`,
  ),
  builtin(
    'aiosv1.policies.builtin.deny-with-reason:v1.0.0-stable',
    'Denies every action; parameters.reason (default "denied by policy") is returned as the reason.',
    `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) { this.parameters = parameters || {}; }
  eval(parameters, inputData, context) {
    const reason = (parameters && parameters.reason) || this.parameters.reason || 'denied by policy';
    return { allowed: false, input_data: { reason } };
  }
}`,
  ),
];

export const builtinRule = (uri: string) => BUILTIN_RULES.find((r) => r.uri === uri);
