import { KubeError, badRequest } from './errors.js';
import { clone, isPlainObject, jsonEqual } from './types.js';

/** The three patch formats of `PATCH` other than server-side apply (see apply.ts). */

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Merge keys of the lists that strategic merge patch merges item by item (the rest are replaced). */
function mergeKeyOf(field: string, items: unknown[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ownerReferences':
      return 'uid';
    case 'conditions':
      return 'type';
    case 'ports':
      // Container ports merge on containerPort, Service ports on port.
      return items.some((i) => isPlainObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

/** Strategic merge patch: a merge patch whose known keyed lists merge by key (`$patch: delete` removes an item). */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue; // directives ($retainKeys, $setElementOrder/...) are not modelled
    if (value === null) {
      delete result[key];
      continue;
    }
    const mergeKey = Array.isArray(value) ? mergeKeyOf(key, [...value, ...(Array.isArray(result[key]) ? (result[key] as unknown[]) : [])]) : undefined;
    if (Array.isArray(value) && mergeKey && Array.isArray(result[key]) && value.every((v) => isPlainObject(v) && mergeKey in v)) {
      const merged = [...(result[key] as unknown[])];
      for (const item of value as Array<Record<string, unknown>>) {
        const at = merged.findIndex((m) => isPlainObject(m) && jsonEqual(m[mergeKey], item[mergeKey]));
        if (item.$patch === 'delete') {
          if (at >= 0) merged.splice(at, 1);
        } else if (at >= 0) merged[at] = strategicMergePatch(merged[at], item);
        else merged.push(strategicMergePatch(undefined, item));
      }
      result[key] = merged;
    } else {
      result[key] = strategicMergePatch(result[key], value);
    }
  }
  return result;
}

function jsonPatchError(message: string): KubeError {
  return new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
}

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) {
    throw badRequest(`json patch: invalid JSON pointer ${JSON.stringify(pointer)}`);
  }
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, path: string[], op: string, pointer: string): { parent: any; key: string } {
  let cur: any = doc;
  for (const seg of path.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(seg)] : isPlainObject(cur) ? cur[seg] : undefined;
    if (cur === undefined) throw jsonPatchError(`jsonpatch ${op} operation does not apply: doc is missing path: ${pointer}`);
  }
  return { parent: cur, key: path[path.length - 1] };
}

function arrayIndex(arr: unknown[], key: string, forAdd: boolean, op: string, pointer: string): number {
  if (forAdd && key === '-') return arr.length;
  const i = Number(key);
  if (!/^\d+$/.test(key) || i > arr.length || (!forAdd && i === arr.length)) {
    throw jsonPatchError(`jsonpatch ${op} operation does not apply: index out of range: ${pointer}`);
  }
  return i;
}

function getAt(doc: unknown, pointer: string, op: string): unknown {
  let cur: any = doc;
  for (const seg of parsePointer(pointer)) {
    cur = Array.isArray(cur) ? cur[Number(seg)] : isPlainObject(cur) ? cur[seg] : undefined;
    if (cur === undefined) throw jsonPatchError(`jsonpatch ${op} operation does not apply: doc is missing path: ${pointer}`);
  }
  return cur;
}

function removeAt(doc: unknown, pointer: string, op: string): unknown {
  const path = parsePointer(pointer);
  if (path.length === 0) throw jsonPatchError('jsonpatch remove operation does not apply: cannot remove the document');
  const { parent, key } = parentOf(doc, path, op, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, false, op, pointer), 1)[0];
  if (!isPlainObject(parent) || !(key in parent)) {
    throw jsonPatchError(`jsonpatch ${op} operation does not apply: doc is missing path: ${pointer}`);
  }
  const old = parent[key];
  delete parent[key];
  return old;
}

function addAt(doc: unknown, pointer: string, value: unknown, op: string, replace: boolean): unknown {
  const path = parsePointer(pointer);
  if (path.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, path, op, pointer);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, !replace, op, pointer);
    if (replace) parent[i] = clone(value);
    else parent.splice(i, 0, clone(value));
  } else if (isPlainObject(parent)) {
    if (replace && !(key in parent)) throw jsonPatchError(`jsonpatch replace operation does not apply: doc is missing key: ${pointer}`);
    parent[key] = clone(value);
  } else {
    throw jsonPatchError(`jsonpatch ${op} operation does not apply: doc is missing path: ${pointer}`);
  }
  return doc;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch: the patch must be a JSON array of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isPlainObject(raw)) throw badRequest('json patch: each operation must be an object');
    const op = String(raw.op);
    const path = raw.path as string;
    switch (op) {
      case 'add':
        doc = addAt(doc, path, raw.value, op, false);
        break;
      case 'replace':
        getAt(doc, path, op);
        doc = addAt(doc, path, raw.value, op, true);
        break;
      case 'remove':
        removeAt(doc, path, op);
        break;
      case 'move': {
        const value = removeAt(doc, raw.from as string, op);
        doc = addAt(doc, path, value, op, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, getAt(doc, raw.from as string, op), op, false);
        break;
      case 'test':
        if (!jsonEqual(getAt(doc, path, op), raw.value)) throw jsonPatchError(`testing value ${path} failed`);
        break;
      default:
        throw badRequest(`json patch: unexpected operation ${JSON.stringify(raw.op)}`);
    }
  }
  return doc;
}
