import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { API_KEYS_CHANNEL, KEY_FEED_APP_PREFIX } from '@ccg/db';
import { startTestGateway, type TestGateway } from '@ccg/testkit';

describe('API keys: create, list, revoke', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('creates a key whose token is shown once and works; lists keys without secrets', async () => {
    const created = await gw.request('POST', '/auth/keys', { name: 'ci-bot', role: 'viewer' });
    expect(created.status).toBe(201);
    const key = created.body.data;
    expect(key).toMatchObject({ name: 'ci-bot', role: 'viewer', source: 'api', revoked_at: null });
    expect(key.token).toMatch(/^ccg_[A-Za-z0-9_-]{43}$/);
    expect(key.token.startsWith(key.token_prefix)).toBe(true);
    expect(key.created_by).toMatch(/^gateway-admin#k_[0-9a-f]{12}$/);

    const who = await gw.requestAs(key.token, 'GET', '/auth/whoami');
    expect(who.body.data).toEqual({ key_id: key.id, name: 'ci-bot', role: 'viewer', actor: `ci-bot#${key.id}` });

    const list = await gw.request('GET', '/auth/keys');
    expect(list.status).toBe(200);
    const listed = list.body.data.items.find((k: any) => k.id === key.id);
    expect(listed).toEqual({ id: key.id, name: 'ci-bot', role: 'viewer', token_prefix: key.token_prefix, source: 'api', created_by: key.created_by, created_at: key.created_at, revoked_at: null, revoked_by: null });
    expect(list.text).not.toContain(key.token);
    // The stored row has the hash, never the token.
    const rows = await gw.db.db.selectFrom('api_keys').selectAll().where('id', '=', key.id).execute();
    expect(JSON.stringify(rows)).not.toContain(key.token);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('validates the body and refuses a second active key of the same name', async () => {
    const bad = await gw.request('POST', '/auth/keys', { name: 'x', role: 'superuser' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('role');
    const badName = await gw.request('POST', '/auth/keys', { name: 'has space', role: 'viewer' });
    expect(badName.body.error.details.field).toBe('name');
    await gw.createKey('operator', 'dup-name');
    const dup = await gw.request('POST', '/auth/keys', { name: 'dup-name', role: 'viewer' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.details.field).toBe('name');
    expect((await gw.request('DELETE', '/auth/keys/k_000000000000')).status).toBe(404);
    expect((await gw.request('GET', '/auth/keys?include_revoked=maybe')).body.error.details.field).toBe('include_revoked');
  });

  it('a revoked key is refused at once; it is listed only with include_revoked; revoking again is harmless', async () => {
    const key = await gw.createKey('operator', 'to-revoke');
    expect((await gw.requestAs(key.token, 'GET', '/clusters')).status).toBe(200);
    const revoked = await gw.request('DELETE', `/auth/keys/${key.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.revoked_by).toMatch(/^gateway-admin#/);
    const refused = await gw.requestAs(key.token, 'GET', '/clusters');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/invalid_token/);
    expect((await gw.request('DELETE', `/auth/keys/${key.id}`)).status).toBe(200);
    const active = (await gw.request('GET', '/auth/keys')).body.data.items.map((k: any) => k.id);
    expect(active).not.toContain(key.id);
    const all = (await gw.request('GET', '/auth/keys?include_revoked=true')).body.data.items.map((k: any) => k.id);
    expect(all).toContain(key.id);
    // The name is free again.
    expect((await gw.request('POST', '/auth/keys', { name: 'to-revoke', role: 'viewer' })).status).toBe(201);
  });

  it('pages the list with limit and cursor', async () => {
    for (let i = 0; i < 3; i++) await gw.createKey('viewer', `page-${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await gw.request('GET', `/auth/keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.data.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.items.map((k: any) => k.name));
      cursor = res.body.data.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(['page-0', 'page-1', 'page-2', 'gateway-admin']));
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('key checks across replicas', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startTestGateway({ worker: false });
    b = await startTestGateway({ worker: false, replicaOf: a });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('a key made on one replica works on the other at once', async () => {
    const key = await a.createKey('viewer');
    expect((await b.requestAs(key.token, 'GET', '/clusters')).status).toBe(200);
  });

  it('a key revoked on one replica is refused on the other at once, though that replica had it cached', async () => {
    for (let i = 0; i < 10; i++) {
      const key = await a.createKey('viewer', `replica-${i}`);
      expect((await b.requestAs(key.token, 'GET', '/clusters')).status).toBe(200); // now cached on b
      expect((await a.request('DELETE', `/auth/keys/${key.id}`)).status).toBe(200);
      expect((await b.requestAs(key.token, 'GET', '/clusters')).status).toBe(401);
    }
  });

  it('a revocation answers only once every listening replica has acknowledged it', async () => {
    // A replica of its own kind: listens on the key feed and acknowledges 400 ms after hearing.
    const slow = new pg.Client({ connectionString: a.env.DATABASE_URL, application_name: `${KEY_FEED_APP_PREFIX}slow${Date.now()}` });
    await slow.connect();
    const heard: string[] = [];
    slow.on('notification', (n) => {
      const [kind, keyId] = (n.payload ?? '').split(':');
      if (kind !== 'revoke') return;
      heard.push(keyId);
      setTimeout(() => void slow.query('select pg_notify($1, $2)', [API_KEYS_CHANNEL, `ack:${keyId}:${slow.connectionParameters.application_name?.slice(KEY_FEED_APP_PREFIX.length)}`]), 400);
    });
    await slow.query(`LISTEN ${API_KEYS_CHANNEL}`);
    try {
      const key = await a.createKey('viewer', 'slow-ack');
      const started = Date.now();
      expect((await a.request('DELETE', `/auth/keys/${key.id}`)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(heard).toContain(key.id);
      expect((await b.requestAs(key.token, 'GET', '/clusters')).status).toBe(401);
    } finally {
      await slow.end();
    }
  });

  it('checks come from the cache: a change that bypasses the notification is not seen until the next one', async () => {
    const key = await a.createKey('viewer', 'cache-proof');
    expect((await b.requestAs(key.token, 'GET', '/clusters')).status).toBe(200);
    // Revoke behind the gateway's back (no pg_notify): b keeps answering from memory...
    await sql`update api_keys set revoked_at = now() where id = ${key.id}`.execute(a.db.db);
    expect((await b.requestAs(key.token, 'GET', '/clusters')).status).toBe(200);
    // ...and an uncached token costs a lookup, which sees the truth.
    expect((await a.requestAs(key.token, 'GET', '/clusters')).status).toBe(401);
    // A revocation through the API (here: a no-op on the row, but it notifies) is heard at once.
    await sql`select pg_notify('ccg_api_keys', ${`revoke:${key.id}`})`.execute(a.db.db);
    const deadline = Date.now() + 2000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) status = (await b.requestAs(key.token, 'GET', '/clusters')).status;
    expect(status).toBe(401);
  });
});

describe('GATEWAY_ADMIN_TOKEN', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
  });
  afterAll(async () => {
    await gw.close();
  });

  const configKeys = async () => gw.db.db.selectFrom('api_keys').selectAll().where('source', '=', 'config').orderBy('created_at').execute();

  it('creates the first admin key, once, however many replicas start with it', async () => {
    expect((await gw.request('GET', '/auth/keys')).status).toBe(200);
    const replicas = await Promise.all([1, 2, 3].map(() => startTestGateway({ worker: false, replicaOf: gw })));
    await Promise.all(replicas.map((r) => r.close()));
    const rows = await configKeys();
    expect(rows.map((r) => [r.name, r.role, r.revoked_at])).toEqual([['gateway-admin', 'admin', null]]);
  });

  it('a new value replaces the old key (revoked); a revoked configured token stays revoked', async () => {
    const newToken = 'rotated-admin-token-0123456789abcdef';
    const rotated = await startTestGateway({ worker: false, replicaOf: gw, env: { GATEWAY_ADMIN_TOKEN: newToken } });
    try {
      expect((await rotated.requestAs(newToken, 'GET', '/auth/keys')).status).toBe(200);
      expect((await gw.request('GET', '/auth/keys')).status).toBe(401);
      const rows = await configKeys();
      expect(rows.map((r) => r.revoked_at === null)).toEqual([false, true]);
      // Revoke the configured key through the API; a restart with the same value leaves it revoked.
      const admin = await rotated.createKey('admin', 'second-admin');
      const current = rows[1];
      expect((await rotated.requestAs(admin.token, 'DELETE', `/auth/keys/${current.id}`)).status).toBe(200);
      const again = await startTestGateway({ worker: false, replicaOf: rotated });
      try {
        expect((await again.requestAs(newToken, 'GET', '/auth/keys')).status).toBe(401);
        expect((await again.requestAs(admin.token, 'GET', '/auth/keys')).status).toBe(200);
      } finally {
        await again.close();
      }
    } finally {
      await rotated.close();
    }
  });
});
