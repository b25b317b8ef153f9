import { apiKeyCreateSchema, apiKeyListQuerySchema, validate, type Page, type Role } from '@ccg/contracts';
import { parseLimit, type ApiKeyRepository, type ApiKeyRow, type BootstrapResult } from '@ccg/db';
import type { Logger } from 'pino';
import type { ApiKeyStore } from './key-store.js';
import { displayPrefix, generateToken, hashToken, newKeyId } from './tokens.js';

/** A key as the API shows it: never the token or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: string;
  token_prefix: string;
  source: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

export const toKeyView = (row: ApiKeyRow): ApiKeyView => ({
  id: row.id,
  name: row.name,
  role: row.role,
  token_prefix: row.token_prefix,
  source: row.source,
  created_by: row.created_by,
  created_at: row.created_at.toISOString(),
  revoked_at: row.revoked_at?.toISOString() ?? null,
  revoked_by: row.revoked_by,
});

/** Longest wait for the replicas' acknowledgements of a revocation before answering anyway. */
const REVOKE_ACK_MS = 5_000;

/** Key administration: create (the token is shown once), list, revoke, and configured keys. */
export class ApiKeyService {
  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly store: ApiKeyStore,
    private readonly log?: Logger,
  ) {}

  async create(body: unknown, actor: string | null): Promise<ApiKeyView & { token: string }> {
    const { name, role } = validate<{ name: string; role: Role }>(apiKeyCreateSchema, body, 'body');
    const token = generateToken();
    const row = await this.repo.insert({ id: newKeyId(), name, role, token_hash: hashToken(token), token_prefix: displayPrefix(token), source: 'api', created_by: actor });
    return { ...toKeyView(row), token };
  }

  async list(query: Record<string, string>): Promise<Page<ApiKeyView>> {
    const q = validate<{ limit?: string; cursor?: string; include_revoked?: string }>(apiKeyListQuerySchema, query, 'query');
    const page = await this.repo.list({ limit: parseLimit(q.limit), cursor: q.cursor }, q.include_revoked === 'true');
    return { items: page.items.map(toKeyView), next_cursor: page.next_cursor };
  }

  /**
   * Refused at once here. Every replica hears the revocation through its change feed, drops the
   * key and acknowledges; the answer waits for all listening replicas' acknowledgements (at most
   * REVOKE_ACK_MS), so once the caller hears "revoked" no replica accepts the key any more.
   */
  async revoke(id: string, actor: string | null): Promise<ApiKeyView> {
    const acks = this.store.collectAcks(id);
    try {
      const { row, revokedNow } = await this.repo.revoke(id, actor);
      this.store.forget(row.id);
      if (revokedNow) {
        const missing = await acks.until(() => this.repo.keyFeedReplicas(), REVOKE_ACK_MS);
        if (missing.length) this.log?.warn({ key_id: id, replicas: missing }, 'API key revoked, but some replicas did not acknowledge in time; they drop it when their feed delivers it');
      }
      return toKeyView(row);
    } finally {
      acks.stop();
    }
  }

  /** An admin key for a token the operator configured (GATEWAY_ADMIN_TOKEN, the zero-setup file). */
  async ensureAdminToken(token: string, source: 'config' | 'zero-setup', name: string): Promise<BootstrapResult> {
    const result = await this.repo.ensureBootstrap({ id: newKeyId(), name, role: 'admin', token_hash: hashToken(token), token_prefix: displayPrefix(token), source, created_by: source });
    for (const id of result.revoked) this.store.forget(id);
    return result;
  }
}
