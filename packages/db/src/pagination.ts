import { InputError } from '@ccg/contracts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** Cursors are opaque to clients: base64url of the sort key of the last item of a page. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): unknown[] | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key;
  } catch {
    /* fall through */
  }
  throw new InputError('invalid query: cursor is not a cursor this endpoint issued', { field: 'cursor' });
}

export function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new InputError(`invalid query: limit must be an integer from 1 to ${MAX_LIMIT}`, { field: 'limit' });
  }
  return n;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

/**
 * Cuts a query result fetched with `limit + 1` rows into a page: the extra row only says that
 * another page exists; the cursor is the sort key of the last item kept.
 */
export function toPage<T>(rows: T[], limit: number, sortKey: (row: T) => (string | number)[]): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, next_cursor: rows.length > limit && items.length ? encodeCursor(sortKey(items[items.length - 1])) : null };
}
