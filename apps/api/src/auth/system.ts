import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '@ccg/config';
import { randomBytes } from 'node:crypto';
import { API_KEYS_CHANNEL, ApiKeyRepository, ChangeFeed, KEY_FEED_APP_PREFIX, type Database } from '@ccg/db';
import { ApiKeyService } from './key-service.js';
import { ApiKeyStore } from './key-store.js';

export interface AuthSystem {
  /** AUTH_DISABLED=true: every route open on the external listener. */
  disabled: boolean;
  keys: ApiKeyService;
  store: ApiKeyStore;
  close(): Promise<void>;
}

/** The name GATEWAY_ADMIN_TOKEN's key gets (its actor in logs). */
export const CONFIG_ADMIN_NAME = 'gateway-admin';

/**
 * Authentication of one process: the key cache with its change feed, key administration, and
 * the admin key of GATEWAY_ADMIN_TOKEN (ensured at every start; idempotent across replicas).
 */
export async function createAuth(db: Kysely<Database>, connectionString: string, config: Config['auth'], log: Logger): Promise<AuthSystem> {
  const repo = new ApiKeyRepository(db);
  let feed: ChangeFeed | undefined;
  const replica = randomBytes(6).toString('hex');
  const store = new ApiKeyStore(
    repo,
    () => feed?.connected ?? false,
    (keyId) => feed!.send(`ack:${keyId}:${replica}`),
  );
  feed = new ChangeFeed(
    connectionString,
    API_KEYS_CHANNEL,
    (payload) => {
      const [kind, keyId, from] = payload.split(':');
      if (kind === 'revoke' && keyId) store.heardRevocation(keyId);
      else if (kind === 'ack' && keyId && from) store.heardAck(keyId, from);
    },
    () => store.clear(),
    { applicationName: `${KEY_FEED_APP_PREFIX}${replica}` },
  );
  await feed.start();
  const keys = new ApiKeyService(repo, store, log);

  if (config.adminToken) {
    const { row, created, revoked } = await keys.ensureAdminToken(config.adminToken, 'config', CONFIG_ADMIN_NAME);
    if (created) log.info({ key_id: row.id, name: row.name, replaced: revoked }, 'GATEWAY_ADMIN_TOKEN: admin API key registered');
    else if (row.revoked_at) log.warn({ key_id: row.id }, 'GATEWAY_ADMIN_TOKEN names a revoked key: it stays revoked; configure a new token');
  }
  if (config.disabled) {
    log.warn('AUTH_DISABLED=true: every route of the external listener is open without a token; use only where the network is trusted');
  }

  return {
    disabled: config.disabled,
    keys,
    store,
    close: () => feed!.close(),
  };
}
