import type { GatewayClient } from './client.js';
import type { Output } from './output.js';

/** What every command needs, built from the global options when the command runs. */
export interface CommandContext {
  client: GatewayClient;
  o: Output;
}

export type ContextOf = () => CommandContext;

/** `a.b=1` style assignments: the value is JSON when it parses, a plain string otherwise. */
export function parseAssignments(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`expected KEY=VALUE, got ${JSON.stringify(p)}`);
    const raw = p.slice(i + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    out[p.slice(0, i)] = value;
  }
  return out;
}

export const enc = encodeURIComponent;
