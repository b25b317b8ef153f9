import { InputError, type Json, type JsonObject } from '@ccg/contracts';

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

export function parsePath(path: string): string[] {
  const segments = path.split('.');
  for (const s of segments) {
    if (s === '') throw new InputError(`invalid body: "${path}" is not a valid dotted path (empty segment)`, { field: path });
    if (FORBIDDEN_SEGMENTS.has(s)) throw new InputError(`invalid body: "${path}" uses the reserved name "${s}"`, { field: path });
  }
  return segments;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Applies `{"a.b.c": value, ...}` to a copy of `doc`, as MongoDB's $set does: missing
 * intermediate objects are created, numeric segments index into existing arrays, and setting
 * inside a scalar is an error. Two keys where one is a prefix of the other are refused, since
 * their order would decide the result.
 */
export function applyDottedUpdate(doc: JsonObject, updates: Record<string, Json>): JsonObject {
  const paths = Object.keys(updates).map((k) => ({ key: k, segments: parsePath(k) }));
  const sorted = [...paths].sort((a, b) => a.key.localeCompare(b.key));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].key.startsWith(sorted[i - 1].key + '.')) {
      throw new InputError(`invalid body: "${sorted[i - 1].key}" and "${sorted[i].key}" overlap`, { field: sorted[i].key });
    }
  }
  const out = structuredClone(doc);
  for (const { key, segments } of paths) {
    let node: Json = out;
    for (let i = 0; i < segments.length - 1; i++) {
      node = child(node, segments[i], segments.slice(0, i + 1).join('.'), key, true);
    }
    assign(node, segments[segments.length - 1], updates[key], key);
  }
  return out;
}

function arrayIndex(arr: Json[], seg: string, key: string): number {
  if (!/^\d+$/.test(seg)) throw new InputError(`invalid body: "${key}" indexes an array with "${seg}"`, { field: key });
  const i = Number(seg);
  if (i > arr.length) throw new InputError(`invalid body: "${key}" index ${i} is beyond the array's end (${arr.length})`, { field: key });
  return i;
}

function child(node: Json, seg: string, at: string, key: string, create: boolean): Json {
  if (Array.isArray(node)) {
    const i = arrayIndex(node, seg, key);
    if (!isObject(node[i]) && !Array.isArray(node[i])) {
      if (node[i] !== undefined && node[i] !== null) throw new InputError(`invalid body: cannot set "${key}": "${at}" is not an object`, { field: key });
      node[i] = {};
    }
    return node[i];
  }
  if (!isObject(node)) throw new InputError(`invalid body: cannot set "${key}"`, { field: key });
  const next = Object.prototype.hasOwnProperty.call(node, seg) ? node[seg] : undefined;
  if (next === undefined || next === null) {
    if (!create) throw new InputError(`invalid body: "${at}" does not exist`, { field: key });
    const fresh: JsonObject = {};
    node[seg] = fresh;
    return fresh;
  }
  if (!isObject(next) && !Array.isArray(next)) {
    throw new InputError(`invalid body: cannot set "${key}": "${at}" is a ${typeof next}, not an object`, { field: key });
  }
  return next;
}

function assign(node: Json, seg: string, value: Json, key: string): void {
  if (Array.isArray(node)) {
    node[arrayIndex(node, seg, key)] = value;
    return;
  }
  if (!isObject(node)) throw new InputError(`invalid body: cannot set "${key}"`, { field: key });
  Object.defineProperty(node, seg, { value, enumerable: true, writable: true, configurable: true });
}
