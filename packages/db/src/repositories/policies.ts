import { sql, type Kysely } from 'kysely';
import { ConflictError, type JsonObject, type Page } from '@ccg/contracts';
import type { Database, NewPrecheckDecision, PolicyRow, PrecheckDecisionRow, PrecheckMapHistoryRow, PrecheckMapRow } from '../schema.js';
import { decodeCursor, toPage, type PageRequest } from '../pagination.js';
import { pgCode, UNIQUE_VIOLATION } from '../errors.js';

export interface NewPolicy {
  uri: string;
  runtime: string;
  code: string;
  code_sha256: string;
  packaging: string;
  description?: string | null;
  settings: JsonObject;
  parameters: JsonObject;
  actor?: string | null;
}

/** Registered policy rules. A URI's code never changes once registered. */
export class PolicyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts the rule; the same URI with the same code is a no-op returning the stored row. */
  async insert(p: NewPolicy): Promise<{ row: PolicyRow; created: boolean }> {
    try {
      const row = await this.db
        .insertInto('policies')
        .values({ ...p, description: p.description ?? null, actor: p.actor ?? null, settings: JSON.stringify(p.settings), parameters: JSON.stringify(p.parameters) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { row, created: true };
    } catch (err) {
      if (pgCode(err) !== UNIQUE_VIOLATION) throw err;
      const existing = await this.find(p.uri);
      if (existing && existing.code_sha256 === p.code_sha256) return { row: existing, created: false };
      throw new ConflictError(`policy ${p.uri} is already registered with different code; register a new version instead`, { field: 'uri', uri: p.uri, code_sha256: existing?.code_sha256 }, 'POLICY_CODE_IMMUTABLE');
    }
  }

  async find(uri: string): Promise<PolicyRow | undefined> {
    return this.db.selectFrom('policies').selectAll().where('uri', '=', uri).executeTakeFirst();
  }

  async list(page: PageRequest): Promise<Page<PolicyRow>> {
    const after = decodeCursor(page.cursor, 1);
    let q = this.db.selectFrom('policies').selectAll().orderBy('uri').limit(page.limit + 1);
    if (after) q = q.where('uri', '>', String(after[0]));
    return toPage(await q.execute(), page.limit, (r) => [r.uri]);
  }

  async delete(uri: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('policy_context').where('uri', '=', uri).execute();
      const r = await tx.deleteFrom('policies').where('uri', '=', uri).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    });
  }
}

/** The per-rule `context` store: one JSON value per key, shared by every replica. */
export class PolicyContextRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async load(uri: string): Promise<JsonObject> {
    const rows = await this.db.selectFrom('policy_context').select(['key', 'value']).where('uri', '=', uri).execute();
    return Object.fromEntries(rows.map((r) => [r.key, r.value])) as JsonObject;
  }

  /** Writes the keys that changed and removes the keys that went (per-key last writer wins). */
  async apply(uri: string, set: JsonObject, removed: string[]): Promise<void> {
    const entries = Object.entries(set);
    if (entries.length === 0 && removed.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      if (entries.length) {
        await tx
          .insertInto('policy_context')
          .values(entries.map(([key, value]) => ({ uri, key, value: JSON.stringify(value) })))
          .onConflict((oc) => oc.columns(['uri', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), updated_at: new Date() })))
          .execute();
      }
      if (removed.length) await tx.deleteFrom('policy_context').where('uri', '=', uri).where('key', 'in', removed).execute();
    });
  }
}

/** Stored overrides of the pre-check action map, and their history. */
export class PrecheckMapRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async entries(scopes: string[]): Promise<PrecheckMapRow[]> {
    if (scopes.length === 0) return [];
    return this.db.selectFrom('precheck_map').selectAll().where('scope', 'in', scopes).execute();
  }

  /** Rule URIs any stored entry names (a rule in use cannot be deleted). */
  async urisInUse(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('precheck_map').select(sql<string>`entry->>'policyRuleURI'`.as('uri')).where('entry', 'is not', null).execute();
    return new Set(rows.map((r) => r.uri).filter(Boolean));
  }

  /** Applies an update (entry null = removal) and records it in the history, in one transaction. */
  async update(scope: string, changes: Record<string, JsonObject | null>, actor: string | null, requestId: string | null): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const rows = Object.entries(changes).map(([action, entry]) => ({ scope, action, entry: entry === null ? null : JSON.stringify(entry), actor }));
      if (rows.length) {
        await tx
          .insertInto('precheck_map')
          .values(rows)
          .onConflict((oc) => oc.columns(['scope', 'action']).doUpdateSet((eb) => ({ entry: eb.ref('excluded.entry'), actor: eb.ref('excluded.actor'), updated_at: new Date() })))
          .execute();
      }
      await tx.insertInto('precheck_map_history').values({ scope, changes: JSON.stringify(changes), actor, request_id: requestId }).execute();
    });
  }

  async history(scope: string | undefined, page: PageRequest): Promise<Page<PrecheckMapHistoryRow>> {
    const after = decodeCursor(page.cursor, 1);
    let q = this.db.selectFrom('precheck_map_history').selectAll().orderBy('id', 'desc').limit(page.limit + 1);
    if (scope !== undefined) q = q.where('scope', '=', scope);
    if (after) q = q.where('id', '<', Number(after[0]));
    return toPage(await q.execute(), page.limit, (r) => [r.id]);
  }
}

export interface DecisionFilter {
  action?: string;
  outcome?: string;
  rule_uri?: string;
  cluster_id?: string;
  task_id?: string;
}

export class DecisionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertMany(rows: NewPrecheckDecision[]): Promise<void> {
    if (rows.length) await this.db.insertInto('precheck_decisions').values(rows).execute();
  }

  async list(filter: DecisionFilter, page: PageRequest): Promise<Page<PrecheckDecisionRow>> {
    const after = decodeCursor(page.cursor, 1);
    let q = this.db.selectFrom('precheck_decisions').selectAll().orderBy('id', 'desc').limit(page.limit + 1);
    for (const [k, v] of Object.entries(filter) as [keyof DecisionFilter, string | undefined][]) {
      if (v !== undefined) q = q.where(k, '=', v);
    }
    if (after) q = q.where('id', '<', Number(after[0]));
    return toPage(await q.execute(), page.limit, (r) => [r.id]);
  }
}
