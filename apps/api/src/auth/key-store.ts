import type { ApiKeyRepository } from '@ccg/db';
import type { Role } from '@ccg/contracts';
import { actorOfKey, hashToken } from './tokens.js';

/** Who a request comes from once its token checked out. */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  /** Recorded as the actor of what the request does. */
  actor: string;
}

/**
 * Token checks for one process. A key, once seen, is answered from memory (no database round
 * trip per request). Revocations arrive through the change feed and drop the key at once; while
 * the feed is down the cache is bypassed, since a revocation could be missed. An unknown token
 * costs one indexed lookup, so a key made on another replica works immediately.
 */
export class ApiKeyStore {
  private readonly byHash = new Map<string, Principal>();
  /** Bumped by every invalidation: a lookup that raced one must not cache what it read. */
  private generation = 0;

  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly cacheUsable: () => boolean,
  ) {}

  async verify(token: string): Promise<Principal | undefined> {
    const hash = hashToken(token);
    const useCache = this.cacheUsable();
    if (useCache) {
      const hit = this.byHash.get(hash);
      if (hit) return hit;
    }
    const started = this.generation;
    const row = await this.repo.findActiveByHash(hash);
    if (!row) return undefined;
    const principal: Principal = { keyId: row.id, name: row.name, role: row.role as Role, actor: actorOfKey(row) };
    if (useCache && this.cacheUsable() && started === this.generation) this.byHash.set(hash, principal);
    return principal;
  }

  /** A key was revoked (here or on another replica). */
  forget(keyId: string): void {
    this.generation++;
    for (const [hash, p] of this.byHash) if (p.keyId === keyId) this.byHash.delete(hash);
  }

  /** The change feed delivered a revocation: forget the key and wake whoever waits for it. */
  heardRevocation(keyId: string): void {
    this.forget(keyId);
    for (const wake of this.echoWaiters.get(keyId) ?? []) wake();
    this.echoWaiters.delete(keyId);
  }

  private readonly echoWaiters = new Map<string, Array<() => void>>();

  /**
   * Resolves when this process's own change feed delivers the revocation of `keyId` (or after
   * `timeoutMs`). Postgres hands a notification to every listener at commit, so once it is back
   * here the other replicas have it too: the revoking request answers only then, and the key is
   * refused everywhere by the time the caller hears it was revoked. Call it before revoking.
   */
  expectRevocation(keyId: string, timeoutMs: number): { heard: Promise<void>; cancel(): void } {
    if (!this.cacheUsable()) return { heard: Promise.resolve(), cancel: () => undefined };
    let wake!: () => void;
    const heard = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(wake, timeoutMs);
    timer.unref();
    const waiters = this.echoWaiters.get(keyId) ?? [];
    waiters.push(wake);
    this.echoWaiters.set(keyId, waiters);
    const cancel = () => {
      clearTimeout(timer);
      const rest = (this.echoWaiters.get(keyId) ?? []).filter((w) => w !== wake);
      if (rest.length) this.echoWaiters.set(keyId, rest);
      else this.echoWaiters.delete(keyId);
      wake();
    };
    return { heard: heard.finally(() => clearTimeout(timer)), cancel };
  }

  /** The change feed (re)connected or dropped: notifications may have been missed. */
  clear(): void {
    this.generation++;
    this.byHash.clear();
  }

  get size(): number {
    return this.byHash.size;
  }
}
