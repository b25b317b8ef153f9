import type { JsonObject, Page } from '@ccg/contracts';
import type { BlockFilter, BlockRepository, BlockRow, PageRequest } from '@ccg/db';

export type BlockView = JsonObject & { id: string; cluster_id: string | null; status: string; version: number };

export function toBlockView(row: BlockRow): BlockView {
  return {
    ...row.doc,
    id: row.id,
    cluster_id: row.cluster_id,
    status: row.status,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** Read side of the blocks registry (allocation writes it through the repository). */
export class BlockService {
  constructor(private readonly repo: BlockRepository) {}

  async read(id: string): Promise<BlockView> {
    return toBlockView(await this.repo.get(id));
  }

  async list(filter: BlockFilter, page: PageRequest): Promise<Page<BlockView>> {
    const p = await this.repo.list(filter, page);
    return { items: p.items.map(toBlockView), next_cursor: p.next_cursor };
  }
}
