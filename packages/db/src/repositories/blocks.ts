import type { Kysely } from 'kysely';
import { ConflictError, NotFoundError, type JsonObject, type Page } from '@ccg/contracts';
import type { BlockRow, Database } from '../schema.js';
import { decodeCursor, toPage, type PageRequest } from '../pagination.js';
import { pgCode, UNIQUE_VIOLATION } from '../errors.js';

export interface BlockFilter {
  cluster_id?: string;
  status?: string;
}

export class BlockRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(block: { id: string; doc: JsonObject; cluster_id?: string | null; status: string }): Promise<BlockRow> {
    try {
      return await this.db
        .insertInto('blocks')
        .values({ id: block.id, doc: JSON.stringify(block.doc), cluster_id: block.cluster_id ?? null, status: block.status })
        .returningAll()
        .executeTakeFirstOrThrow();
    } catch (err) {
      if (pgCode(err) === UNIQUE_VIOLATION) throw new ConflictError(`block ${block.id} already exists`, { field: 'id', id: block.id });
      throw err;
    }
  }

  async find(id: string): Promise<BlockRow | undefined> {
    return this.db.selectFrom('blocks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Sets the given fields (allocation: placement and status; de-allocation: status 'removed'); 404 if absent. */
  async update(id: string, fields: { doc?: JsonObject; cluster_id?: string | null; status?: string }): Promise<BlockRow> {
    const row = await this.db
      .updateTable('blocks')
      .set((eb) => ({
        ...(fields.doc !== undefined ? { doc: JSON.stringify(fields.doc) } : {}),
        ...(fields.cluster_id !== undefined ? { cluster_id: fields.cluster_id } : {}),
        ...(fields.status !== undefined ? { status: fields.status } : {}),
        version: eb('version', '+', 1),
        updated_at: new Date(),
      }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`block ${id} not found`, { id });
    return row;
  }

  async get(id: string): Promise<BlockRow> {
    const row = await this.db.selectFrom('blocks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError(`block ${id} not found`, { id });
    return row;
  }

  async idsOnCluster(clusterId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('blocks').select('id').where('cluster_id', '=', clusterId).where('status', '!=', 'removed').orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  async list(filter: BlockFilter, page: PageRequest): Promise<Page<BlockRow>> {
    const after = decodeCursor(page.cursor, 1);
    let q = this.db.selectFrom('blocks').selectAll().orderBy('id').limit(page.limit + 1);
    if (filter.cluster_id !== undefined) q = q.where('cluster_id', '=', filter.cluster_id);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (after) q = q.where('id', '>', String(after[0]));
    return toPage(await q.execute(), page.limit, (r) => [r.id]);
  }
}
