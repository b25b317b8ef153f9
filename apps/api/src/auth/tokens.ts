import { createHash, randomBytes } from 'node:crypto';

/** Generated tokens: `ccg_` and 32 random bytes in base64url (256 bits). */
export const TOKEN_PREFIX = 'ccg_';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Keys are stored as the SHA-256 of the token. The tokens are random and long, so a fast hash
 * is enough (no salt or KDF: there is nothing to brute-force).
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** What lists show to tell keys apart: `ccg_` and 8 characters, or 4 of a configured token. */
export function displayPrefix(token: string): string {
  return token.startsWith(TOKEN_PREFIX) ? token.slice(0, TOKEN_PREFIX.length + 8) : token.slice(0, 4);
}

export function newKeyId(): string {
  return `k_${randomBytes(6).toString('hex')}`;
}

/** How a key appears as the actor of tasks, pre-check decisions, map history and cluster writes. */
export function actorOfKey(key: { id: string; name: string }): string {
  return `${key.name}#${key.id}`;
}
