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
 * trip per request). Revocations arrive through the change feed and drop the key at once; each
 * replica acknowledges a revocation, and the revoking request answers once every listening
 * replica has. While the feed is down the cache is bypassed, since a revocation could be missed.
 * An unknown token costs one indexed lookup, so a key made on another replica works immediately.
 */
export class ApiKeyStore {
  private readonly byHash = new Map<string, Principal>();
  /** Bumped by every invalidation: a lookup that raced one must not cache what it read. */
  private generation = 0;

  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly cacheUsable: () => boolean,
    /** Tells the revoker (through the change feed) that this replica dropped the key. */
    private readonly acknowledge: (keyId: string) => Promise<unknown> = async () => undefined,
  ) {}

  /** The key of `token` when this process has it cached (and the cache is usable); no I/O. */
  cached(token: string): Principal | undefined {
    return this.cacheUsable() ? this.byHash.get(hashToken(token)) : undefined;
  }

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

  /** The change feed delivered a revocation: forget the key, then acknowledge it to the revoker. */
  heardRevocation(keyId: string): void {
    this.forget(keyId);
    void this.acknowledge(keyId);
  }

  /** The change feed delivered a replica's acknowledgement of a revocation. */
  heardAck(keyId: string, replica: string): void {
    for (const waiter of this.ackWaiters.get(keyId) ?? []) waiter(replica);
  }

  private readonly ackWaiters = new Map<string, Set<(replica: string) => void>>();

  /**
   * Collects the replicas' acknowledgements of the revocation of `keyId`. Start it before
   * revoking; `until(live, timeoutMs)` then resolves once every replica in `live()` (the
   * listening replicas, this one included) has acknowledged, i.e. has dropped the key, and
   * returns those that did not within the time (none while this replica's feed is down: it
   * cannot hear acknowledgements, and the others still get the revocation through theirs).
   */
  collectAcks(keyId: string): { until(live: () => Promise<string[]>, timeoutMs: number): Promise<string[]>; stop(): void } {
    const acked = new Set<string>();
    let changed: () => void = () => undefined;
    const waiter = (replica: string) => {
      acked.add(replica);
      changed();
    };
    const waiters = this.ackWaiters.get(keyId) ?? new Set();
    waiters.add(waiter);
    this.ackWaiters.set(keyId, waiters);
    const stop = () => {
      waiters.delete(waiter);
      if (waiters.size === 0) this.ackWaiters.delete(keyId);
      changed();
    };
    const until = async (live: () => Promise<string[]>, timeoutMs: number): Promise<string[]> => {
      if (!this.cacheUsable()) return [];
      const deadline = Date.now() + timeoutMs;
      let expected = await live();
      let rechecked = false;
      for (;;) {
        const missing = expected.filter((r) => !acked.has(r));
        if (missing.length === 0) return [];
        const left = deadline - Date.now();
        if (left <= 0) {
          // A replica that went away meanwhile has nothing cached: ask once who is still there.
          if (rechecked) return missing;
          rechecked = true;
          expected = await live();
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          changed = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    };
    return { until, stop };
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
