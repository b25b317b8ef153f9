import { KubeError } from './errors.js';
import type { KubeObject, ManagedFieldsEntry } from './types.js';
import { clone, isPlainObject, jsonEqual, nowIso } from './types.js';

/**
 * Field ownership for server-side apply, kept in metadata.managedFields (FieldsV1). Simplified
 * from the real field manager: maps are owned key by key, lists are owned whole (atomic).
 */

type Path = string[];

/** Fields the server owns; never part of anyone's field set. */
const SYSTEM_FIELDS = new Set([
  'apiVersion',
  'kind',
  'status',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.creationTimestamp',
  'metadata.deletionTimestamp',
  'metadata.deletionGracePeriodSeconds',
  'metadata.managedFields',
  'metadata.selfLink',
]);

const pathKey = (p: Path): string => JSON.stringify(p);

/** Leaf paths of a JSON object: scalars, lists and empty maps are leaves. */
export function leafPaths(obj: unknown, prefix: Path = []): Path[] {
  if (!isPlainObject(obj) || (Object.keys(obj).length === 0 && prefix.length > 0)) return [prefix];
  const out: Path[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const p = [...prefix, k];
    if (v === undefined || SYSTEM_FIELDS.has(p.join('.'))) continue;
    out.push(...leafPaths(v, p));
  }
  return out;
}

function valueAt(obj: unknown, path: Path): unknown {
  let cur: any = obj;
  for (const seg of path) cur = isPlainObject(cur) ? cur[seg] : undefined;
  return cur;
}

function deleteAt(obj: Record<string, any>, path: Path): void {
  const parents: Array<Record<string, any>> = [];
  let cur: any = obj;
  for (const seg of path.slice(0, -1)) {
    if (!isPlainObject(cur[seg])) return;
    parents.push(cur);
    cur = cur[seg];
  }
  delete cur[path[path.length - 1]];
  // Drop maps the removal emptied (the real field manager does the same for unowned parents).
  for (let i = path.length - 2; i >= 0; i--) {
    const parent = parents[i];
    const child = parent[path[i]];
    if (isPlainObject(child) && Object.keys(child).length === 0) delete parent[path[i]];
    else break;
  }
}

export function toFieldsV1(paths: Path[]): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const p of paths) {
    let cur = root;
    for (const seg of p) cur = cur[`f:${seg}`] ??= {};
  }
  return root;
}

export function fromFieldsV1(fields: unknown, prefix: Path = []): Path[] {
  if (!isPlainObject(fields) || Object.keys(fields).length === 0) return prefix.length ? [prefix] : [];
  const out: Path[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (k.startsWith('f:')) out.push(...fromFieldsV1(v, [...prefix, k.slice(2)]));
  }
  return out;
}

const isPrefix = (a: Path, b: Path): boolean => a.length <= b.length && a.every((s, i) => s === b[i]);
const overlaps = (a: Path, b: Path): boolean => isPrefix(a, b) || isPrefix(b, a);

function entry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, paths: Path[], subresource?: string): ManagedFieldsEntry {
  return {
    manager,
    operation,
    apiVersion,
    time: nowIso(),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(paths),
    ...(subresource ? { subresource } : {}),
  };
}

/** Removes `taken` from every other entry; drops entries left owning nothing. */
function withoutPaths(entries: ManagedFieldsEntry[], taken: Path[]): ManagedFieldsEntry[] {
  return entries.flatMap((e) => {
    const kept = fromFieldsV1(e.fieldsV1).filter((p) => !taken.some((t) => overlaps(p, t)));
    return kept.length ? [{ ...e, fieldsV1: toFieldsV1(kept) }] : [];
  });
}

/**
 * Records a non-apply write (create, update, merge/JSON patch): the manager takes the fields whose
 * values it changed, and other managers lose them (updates never conflict).
 */
export function recordUpdate(before: KubeObject | undefined, after: KubeObject, manager: string, subresource?: string): void {
  const changed = leafPaths(after).filter((p) => !jsonEqual(valueAt(before, p), valueAt(after, p)));
  const entries = (before?.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  if (changed.length === 0 && before) {
    after.metadata.managedFields = clone(entries);
    return;
  }
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Update' && e.subresource === subresource);
  const owned = [...(mine ? fromFieldsV1(mine.fieldsV1) : []), ...changed].filter((p) => valueAt(after, p) !== undefined);
  const mineNext = entry(manager, 'Update', after.apiVersion, dedupe(owned), subresource);
  const next = entries.flatMap((e) => (e === mine ? [mineNext] : withoutPaths([e], changed)));
  after.metadata.managedFields = mine ? next : [...next, mineNext];
}

function dedupe(paths: Path[]): Path[] {
  const seen = new Map<string, Path>();
  for (const p of paths) seen.set(pathKey(p), p);
  // Keep only the deepest paths: a leaf that became a map is owned through its children.
  return [...seen.values()].filter((p) => ![...seen.values()].some((q) => q.length > p.length && isPrefix(p, q)));
}

function deepMerge(target: unknown, applied: unknown): unknown {
  if (!isPlainObject(applied) || !isPlainObject(target)) return clone(applied);
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(applied)) out[k] = deepMerge(out[k], v);
  return out;
}

/**
 * Server-side apply of `applied` by `manager` onto `existing` (undefined = create). Fields the
 * manager applied before and left out now are removed; fields another manager owns with a
 * different value are a 409 conflict unless `force`, which takes them over.
 */
export function applyConfiguration(
  existing: KubeObject | undefined,
  applied: KubeObject,
  manager: string,
  force: boolean,
  conflictName: string,
): KubeObject {
  const appliedPaths = leafPaths(applied);
  const entries = (existing?.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const others = entries.filter((e) => e !== mine);

  const conflicts: Array<{ manager: string; apiVersion: string; path: Path }> = [];
  for (const other of others) {
    for (const owned of fromFieldsV1(other.fieldsV1)) {
      const hit = appliedPaths.find((p) => overlaps(p, owned));
      if (hit && !jsonEqual(valueAt(existing, owned), valueAt(applied, owned))) {
        conflicts.push({ manager: other.manager, apiVersion: other.apiVersion, path: owned });
      }
    }
  }
  if (conflicts.length && !force) {
    const describe = (c: (typeof conflicts)[number]) => `conflict with "${c.manager}" using ${c.apiVersion}: .${c.path.join('.')}`;
    const message =
      conflicts.length === 1
        ? `Apply failed with 1 conflict: ${describe(conflicts[0])}`
        : `Apply failed with ${conflicts.length} conflicts: ${conflicts.map(describe).join('\n')}`;
    throw new KubeError(409, 'Conflict', message, {
      name: conflictName,
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: `.${c.path.join('.')}` })),
    });
  }

  const result = clone(existing ?? ({ apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} } as KubeObject));
  const stillApplied = new Set(appliedPaths.map(pathKey));
  const ownedByOthers = others.flatMap((e) => fromFieldsV1(e.fieldsV1));
  for (const old of mine ? fromFieldsV1(mine.fieldsV1) : []) {
    if (stillApplied.has(pathKey(old)) || appliedPaths.some((p) => overlaps(p, old))) continue;
    if (ownedByOthers.some((p) => overlaps(p, old))) continue;
    deleteAt(result, old);
  }
  const merged = deepMerge(result, applied) as KubeObject;
  const taken = force ? conflicts.map((c) => c.path) : [];
  const mineNext = entry(manager, 'Apply', applied.apiVersion, dedupe(appliedPaths));
  // Entries keep their order, so a repeated identical apply is recognised as a no-op.
  const next = entries.flatMap((e) => (e === mine ? [mineNext] : withoutPaths([e], taken)));
  merged.metadata.managedFields = mine ? next : [...next, mineNext];
  return merged;
}
