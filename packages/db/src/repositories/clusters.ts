import { CompiledQuery, sql, type Kysely } from 'kysely';
import { ConflictError, NotFoundError, StaleVersionError, type JsonObject, type Page } from '@ccg/contracts';
import type { ClusterRow, Database } from '../schema.js';
import { decodeCursor, toPage, type PageRequest } from '../pagination.js';
import { pgCode, UNIQUE_VIOLATION } from '../errors.js';

const FIND_CLUSTER = 'select * from clusters where id = $1';
/** ISO 8601 in UTC with milliseconds, as JavaScript's Date.toISOString (both truncate microseconds). */
const isoUtc = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const FIND_CLUSTER_VIEW_JSON = `select version, (doc || jsonb_build_object('id', id, 'version', version, 'created_at', ${isoUtc('created_at')}, 'updated_at', ${isoUtc('updated_at')}))::text as json from clusters where id = $1`;

export class ClusterRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** `actor`: who creates it (an API key's actor string), kept as created_by / updated_by. */
  async insert(id: string, doc: JsonObject, actor: string | null = null): Promise<ClusterRow> {
    try {
      return await this.db
        .insertInto('clusters')
        .values({ id, doc: JSON.stringify(doc), created_by: actor, updated_by: actor })
        .returningAll()
        .executeTakeFirstOrThrow();
    } catch (err) {
      if (pgCode(err) === UNIQUE_VIOLATION) throw new ConflictError(`cluster ${id} already exists`, { field: 'id', id });
      throw err;
    }
  }

  async find(id: string): Promise<ClusterRow | undefined> {
    // A hot read (every proxied call looks its cluster up): a written-out statement, not a query
    // built and compiled by Kysely on every call.
    const { rows } = await this.db.executeQuery<ClusterRow>(CompiledQuery.raw(FIND_CLUSTER, [id]));
    return rows[0];
  }

  /**
   * The entry as the API shows it (the document with id, version and timestamps as
   * `toClusterView` sets them), serialised by Postgres: the read route sends this text as it is
   * instead of parsing the document and serialising it again on the event loop.
   */
  async findViewJson(id: string): Promise<{ version: number; json: string } | undefined> {
    const { rows } = await this.db.executeQuery<{ version: number; json: string }>(CompiledQuery.raw(FIND_CLUSTER_VIEW_JSON, [id]));
    return rows[0];
  }

  /** Ids of the clusters whose `config.urlMap` names the given service (e.g. metricsService). */
  async idsWithService(key: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('clusters')
      .select('id')
      .where(sql<boolean>`coalesce(doc->'config'->'urlMap'->>${key}, '') <> ''`)
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async get(id: string): Promise<ClusterRow> {
    const row = await this.find(id);
    if (!row) throw new NotFoundError(`cluster ${id} not found`, { id });
    return row;
  }

  async list(page: PageRequest): Promise<Page<ClusterRow>> {
    const after = decodeCursor(page.cursor, 1);
    let q = this.db.selectFrom('clusters').selectAll().orderBy('id').limit(page.limit + 1);
    if (after) q = q.where('id', '>', String(after[0]));
    return toPage(await q.execute(), page.limit, (r) => [r.id]);
  }

  /**
   * Read-modify-write under a row lock, so concurrent updates of different fields never
   * overwrite each other. `expectedVersion` (If-Match) makes a stale writer fail with 412.
   */
  async update(
    id: string,
    mutate: (doc: JsonObject) => JsonObject | Promise<JsonObject>,
    expectedVersion?: number,
    actor: string | null = null,
  ): Promise<ClusterRow> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('clusters').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) throw new NotFoundError(`cluster ${id} not found`, { id });
      if (expectedVersion !== undefined && row.version !== expectedVersion) throw new StaleVersionError(expectedVersion, row.version);
      const next = await mutate(row.doc);
      return tx
        .updateTable('clusters')
        .set((eb) => ({ doc: JSON.stringify(next), version: eb('version', '+', 1), updated_at: new Date(), updated_by: actor }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  async delete(id: string, expectedVersion?: number): Promise<ClusterRow> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('clusters').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) throw new NotFoundError(`cluster ${id} not found`, { id });
      if (expectedVersion !== undefined && row.version !== expectedVersion) throw new StaleVersionError(expectedVersion, row.version);
      await tx.deleteFrom('clusters').where('id', '=', id).execute();
      return row;
    });
  }
}
