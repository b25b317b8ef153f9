import { InputError } from '@ccg/contracts';

/** Parses an If-Match header (`"3"`, `W/"3"`, `3` or `*`) into the expected version. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m) throw new InputError('invalid header: If-Match must be the ETag of a version, e.g. "3"', { field: 'If-Match' });
  return Number(m[1]);
}

export const etagOf = (version: number): string => `"${version}"`;
