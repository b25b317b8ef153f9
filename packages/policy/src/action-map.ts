import { actionMapSchema, InputError, PRECHECK_ACTIONS, validate, type JsonObject, type PrecheckAction } from '@ccg/contracts';
import type { PrecheckMapRepository } from '@ccg/db';

/** One action's pre-check, with defaults applied. */
export interface ActionEntry {
  policyRuleURI: string;
  parameters: JsonObject;
  settings: JsonObject;
  mode: 'enforce' | 'audit';
  timeoutMs?: number;
  failurePolicy: 'closed' | 'open';
}

export type EntrySource = 'env' | 'global' | 'cluster';

export interface EffectiveEntry {
  entry: ActionEntry;
  source: EntrySource;
}

export type EffectiveMap = Partial<Record<PrecheckAction, EffectiveEntry>>;

const GLOBAL_SCOPE = '';

export function normalizeEntry(raw: string | JsonObject): ActionEntry {
  if (typeof raw === 'string') return { policyRuleURI: raw, parameters: {}, settings: {}, mode: 'enforce', failurePolicy: 'closed' };
  return {
    policyRuleURI: raw.policyRuleURI as string,
    parameters: (raw.parameters as JsonObject) ?? {},
    settings: (raw.settings as JsonObject) ?? {},
    mode: (raw.mode as ActionEntry['mode']) ?? 'enforce',
    timeoutMs: raw.timeoutMs as number | undefined,
    failurePolicy: (raw.failurePolicy as ActionEntry['failurePolicy']) ?? 'closed',
  };
}

/** The compact form users wrote: a bare URI when nothing else is set. */
export function compactEntry(e: ActionEntry): string | JsonObject {
  const extra = Object.keys(e.parameters).length || Object.keys(e.settings).length || e.mode !== 'enforce' || e.timeoutMs !== undefined || e.failurePolicy !== 'closed';
  if (!extra) return e.policyRuleURI;
  const o: JsonObject = { policyRuleURI: e.policyRuleURI };
  if (Object.keys(e.parameters).length) o.parameters = e.parameters;
  if (Object.keys(e.settings).length) o.settings = e.settings;
  if (e.mode !== 'enforce') o.mode = e.mode;
  if (e.timeoutMs !== undefined) o.timeoutMs = e.timeoutMs;
  if (e.failurePolicy !== 'closed') o.failurePolicy = e.failurePolicy;
  return o;
}

/**
 * The pre-check action map. The environment's map is the baseline; updates stored in Postgres
 * override it (an explicit removal included), and a cluster's own map overrides the global one
 * for actions on that cluster. Reads for the gate go through a cache that the change feed clears.
 */
export class ActionMap {
  private readonly baseline: Map<PrecheckAction, ActionEntry>;
  private readonly cache = new Map<string, EffectiveMap>();

  constructor(
    envMap: JsonObject,
    private readonly repo: PrecheckMapRepository,
    private readonly cacheEnabled: () => boolean,
    private readonly changed: () => Promise<void>,
  ) {
    this.baseline = new Map(Object.entries(envMap).map(([a, v]) => [a as PrecheckAction, normalizeEntry(v as string | JsonObject)]));
  }

  /** The effective map for a scope (undefined: global). Always read from Postgres. */
  async load(clusterId?: string): Promise<EffectiveMap> {
    const scopes = clusterId ? [GLOBAL_SCOPE, clusterId] : [GLOBAL_SCOPE];
    const rows = await this.repo.entries(scopes);
    const map: EffectiveMap = {};
    for (const [action, entry] of this.baseline) map[action] = { entry, source: 'env' };
    for (const scope of scopes) {
      for (const row of rows.filter((r) => r.scope === scope)) {
        const action = row.action as PrecheckAction;
        if (row.entry === null) delete map[action];
        else map[action] = { entry: normalizeEntry(row.entry), source: scope === GLOBAL_SCOPE ? 'global' : 'cluster' };
      }
    }
    return map;
  }

  /** The entry the gate uses for an action, cached while the change feed is connected. */
  async entryFor(action: PrecheckAction, clusterId?: string): Promise<ActionEntry | undefined> {
    const key = clusterId ?? GLOBAL_SCOPE;
    let map = this.cacheEnabled() ? this.cache.get(key) : undefined;
    if (!map) {
      map = await this.load(clusterId);
      if (this.cacheEnabled()) this.cache.set(key, map);
    }
    return map[action]?.entry;
  }

  /**
   * The spec's update: listed actions are set, "" removes an action's check, unlisted actions
   * keep theirs. Unknown actions are refused (400 naming them).
   */
  async update(body: unknown, clusterId: string | undefined, actor: string | null, requestId: string | null): Promise<void> {
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const unknown = Object.keys(body).find((k) => !(PRECHECK_ACTIONS as readonly string[]).includes(k));
      if (unknown) throw new InputError(`invalid body: ${unknown} is not a pre-check action (known: ${PRECHECK_ACTIONS.join(', ')})`, { field: unknown });
    }
    const update = validate<Record<string, string | JsonObject>>(actionMapSchema(true), body, 'body');
    const changes: Record<string, JsonObject | null> = {};
    for (const [action, value] of Object.entries(update)) {
      changes[action] = value === '' ? null : (compactEntryObject(normalizeEntry(value)));
    }
    await this.repo.update(clusterId ?? GLOBAL_SCOPE, changes, actor, requestId);
    this.invalidate();
    await this.changed();
  }

  /** Every rule URI the baseline or any stored entry names. */
  async urisInUse(): Promise<Set<string>> {
    const uris = await this.repo.urisInUse();
    for (const e of this.baseline.values()) uris.add(e.policyRuleURI);
    return uris;
  }

  invalidate(): void {
    this.cache.clear();
  }
}

function compactEntryObject(e: ActionEntry): JsonObject {
  const c = compactEntry(e);
  return typeof c === 'string' ? { policyRuleURI: c } : c;
}
