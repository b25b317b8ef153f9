import type { RequestHandler } from 'express';
import { InputError } from '@ccg/contracts';

/**
 * Nesting allowed in a JSON body. Cluster entries, blocks and payloads need well under 20 levels;
 * deeper bodies are refused before anything recursive (ajv, JSON.stringify into jsonb, structuredClone)
 * meets them: JSON.stringify overflows the stack around 10,000 levels and Postgres's jsonb input
 * stops at its own stack limit, both of which used to surface as 500s.
 */
export const MAX_JSON_DEPTH = 64;

/** Keys never accepted: `__proto__` changes an object's prototype when code copies it with assignment. */
const FORBIDDEN_KEYS = new Set(['__proto__']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** NUL cannot be stored in Postgres text or jsonb; an unpaired surrogate is not Unicode and jsonb refuses its escape. */
const NUL_OR_LONE_SURROGATE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
function unstorable(s: string): boolean {
  return NUL_OR_LONE_SURROGATE.test(s);
}

const pathOf = (path: string[]): string => (path.length ? path.join('.') : '(body)');

/** The first problem of a parsed body, as a 400 naming where it is; undefined when it is fine. */
export function checkJsonBody(body: unknown): InputError | undefined {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value: body, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (unstorable(value)) return new InputError(`invalid body: ${pathOf(path)} contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored`, { field: pathOf(path) });
      continue;
    }
    if (!isObject(value)) continue;
    if (path.length >= MAX_JSON_DEPTH) {
      return new InputError(`invalid body: ${pathOf(path)} is nested deeper than ${MAX_JSON_DEPTH} levels`, { field: pathOf(path), max_depth: MAX_JSON_DEPTH });
    }
    for (const key of Object.keys(value)) {
      const at = [...path, key];
      if (FORBIDDEN_KEYS.has(key)) return new InputError(`invalid body: the key "${key}" is not allowed (at ${pathOf(at)})`, { field: pathOf(at) });
      if (unstorable(key)) return new InputError(`invalid body: a key at ${pathOf(path)} contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored`, { field: pathOf(path) });
      stack.push({ value: (value as Record<string, unknown>)[key], path: at });
    }
  }
  return undefined;
}

/** Runs after the JSON parser: refuses bodies no route can use safely (see checkJsonBody). */
export const guardJsonBody: RequestHandler = (req, _res, next) => {
  next(req.body === undefined ? undefined : checkJsonBody(req.body));
};
