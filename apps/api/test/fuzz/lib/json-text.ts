/**
 * Building request bodies whose JSON text JSON.stringify cannot make: nesting 10,000 levels
 * deep (stringify recurses and overflows the stack) and own `__proto__` keys.
 */

const RAW = Symbol('raw JSON text');

/** A value that serialises as the given JSON text, verbatim. */
export interface RawJson {
  [RAW]: string;
}

export const rawJson = (text: string): RawJson => ({ [RAW]: text });

const isRaw = (v: unknown): v is RawJson => typeof v === 'object' && v !== null && RAW in v;

/** Nested arrays or objects `depth` levels deep, as JSON text. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
}

/** Sets an own enumerable property, even `__proto__` (an assignment would change the prototype). */
export function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** JSON.stringify that splices RawJson values in as their text. */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const marker = (i: number) => `\u0001raw${i}\u0001`;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (isRaw(v)) {
      raws.push(v[RAW]);
      return marker(raws.length - 1);
    }
    return v;
  });
  if (raws.length === 0) return text;
  // The marker's control characters are escaped by JSON.stringify as \u0001.
  return text.replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]);
}

export type PathSegment = string | number;

/** A deep copy of plain JSON-like data that keeps own `__proto__` keys and RawJson values. */
export function cloneJson<T>(v: T): T {
  if (isRaw(v) || typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  const out = {};
  for (const k of Object.keys(v)) defineOwn(out, k, cloneJson((v as Record<string, unknown>)[k]));
  return out as T;
}

/** The value at `path`, or undefined. */
export function getAt(root: unknown, path: PathSegment[]): unknown {
  let node: unknown = root;
  for (const seg of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = Object.prototype.hasOwnProperty.call(node, seg) ? (node as Record<string, unknown>)[seg as string] : undefined;
  }
  return node;
}

/** A copy of `root` with `path` set to `value` (or removed when `value` is REMOVE). */
export const REMOVE = Symbol('remove');
export function setAt(root: unknown, path: PathSegment[], value: unknown): unknown {
  if (path.length === 0) return value === REMOVE ? undefined : value;
  const copy = cloneJson(root);
  let node = copy as Record<string, unknown>;
  for (const seg of path.slice(0, -1)) node = node[seg as string] as Record<string, unknown>;
  const last = path[path.length - 1];
  if (value === REMOVE) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last as string];
  } else if (Array.isArray(node)) {
    node[Number(last)] = value;
  } else {
    defineOwn(node, String(last), value);
  }
  return copy;
}

/** The dotted name the gateway uses for a field (`nodes.nodeData.0.id`); `(body)` for the root. */
export const fieldName = (path: PathSegment[]): string => (path.length ? path.join('.') : '(body)');
