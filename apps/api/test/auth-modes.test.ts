import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { createAuth, ensureZeroSetupAdminToken } from '@ccg/api';
import { loadConfig } from '@ccg/config';
import { ALLOW_ALL_RULE_URI, sampleCluster, setPrecheckMap, startTestGateway, type TestGateway } from '@ccg/testkit';

/** A pino logger whose lines are kept in memory. */
function capturedLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines, text: () => lines.join('\n') };
}

describe('actors', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('a task records the key that started it, and the key that cancelled it', async () => {
    const admin = await gw.createKey('admin', 'admin-bob');
    const operator = await gw.createKey('operator', 'ops-carol');
    const submit = await gw.requestAs(admin.token, 'POST', '/admin/diagnostics/tasks', { steps: 1 });
    expect(submit.status).toBe(200);
    const task = await gw.request('GET', `/tasks/${submit.body.data.task_id}`);
    expect(task.body.data.actor).toBe(`admin-bob#${admin.id}`);
    const cancel = await gw.requestAs(operator.token, 'POST', `/tasks/${submit.body.data.task_id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.data.task_status_data.cancelled_by).toBe(`ops-carol#${operator.id}`);
  });

  it('pre-check decisions, map history and cluster writes record the key', async () => {
    const parser = await gw.createKey('parser', 'parser-svc');
    const operator = await gw.createKey('operator', 'ops-dan');
    await setPrecheckMap(gw, { update_cluster: ALLOW_ALL_RULE_URI });
    const history = await gw.request('GET', '/pre-check-policies/history');
    expect(history.body.data.items[0].actor).toMatch(/^gateway-admin#k_/);

    expect((await gw.requestAs(parser.token, 'POST', '/clusters/create', sampleCluster('actor-1'))).status).toBe(200);
    const update = await gw.requestAs(operator.token, 'PATCH', '/clusters/update/actor-1', { 'clusterMetadata.creator': 'dan' });
    expect(update.status).toBe(200);

    const decisions = await gw.request('GET', '/pre-check-policies/decisions?action=update_cluster');
    expect(decisions.body.data.items.map((d: any) => d.actor)).toEqual([`ops-dan#${operator.id}`]);
    const row = await gw.db.db.selectFrom('clusters').select(['created_by', 'updated_by']).where('id', '=', 'actor-1').executeTakeFirstOrThrow();
    expect(row).toEqual({ created_by: `parser-svc#${parser.id}`, updated_by: `ops-dan#${operator.id}` });
  });
});

describe('AUTH_DISABLED=true', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false, authDisabled: true });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('opens every route without a token (admin routes included) and records the actor as anonymous', async () => {
    const submit = await gw.requestAs(null, 'POST', '/admin/diagnostics/tasks', { steps: 1 });
    expect(submit.status).toBe(200);
    expect((await gw.requestAs(null, 'GET', `/tasks/${submit.body.data.task_id}`)).body.data.actor).toBe('anonymous');
    expect((await gw.requestAs(null, 'POST', '/clusters/create', sampleCluster('open-1'))).status).toBe(200);
    expect((await gw.requestAs(null, 'GET', '/auth/keys')).status).toBe(200);
    expect((await gw.requestAs('ccg_whatever-token-is-ignored-here-000000000000', 'GET', '/clusters')).status).toBe(200);
    expect((await gw.requestAs(null, 'GET', '/auth/whoami')).body.data).toMatchObject({ key_id: null, actor: 'anonymous' });
  });

  it('logs a warning at every start', async () => {
    for (let start = 0; start < 2; start++) {
      const { log, lines } = capturedLog();
      const auth = await createAuth(gw.db.db, gw.env.DATABASE_URL, loadConfig(gw.env).auth, log);
      await auth.close();
      const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
      expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(/^AUTH_DISABLED=true: every route/)]);
    }
  });
});

describe('zero-setup admin token (npm start with no configuration)', () => {
  let gw: TestGateway;
  let dataDir: string;
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
    dataDir = await mkdtemp(path.join(tmpdir(), 'ccg-auth-'));
  });
  afterAll(async () => {
    await gw.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const zeroSetupConfig = () => loadConfig({ DATA_DIR: dataDir, PORT: '5000' });

  it('first start: makes a token, prints it once with where it is kept, stores it 0600; it is an admin key', async () => {
    const printed: string[] = [];
    const { log, text } = capturedLog();
    const file = await ensureZeroSetupAdminToken(zeroSetupConfig(), gw.auth, log, (t) => printed.push(t));
    expect(file).toBe(path.join(dataDir, 'secrets', 'admin-token'));
    const token = (await readFile(file!, 'utf8')).trim();
    expect(token).toMatch(/^ccg_/);
    expect((await stat(file!)).mode & 0o777).toBe(0o600);
    expect(printed.join('')).toContain(token);
    expect(printed.join('')).toContain(file);
    expect(text()).not.toContain(token);
    expect(text()).toContain(file);
    const who = await gw.requestAs(token, 'GET', '/auth/whoami');
    expect(who.body.data).toMatchObject({ name: 'zero-setup-admin', role: 'admin' });

    // Second start: nothing printed, same token, still one zero-setup key.
    const again: string[] = [];
    await ensureZeroSetupAdminToken(zeroSetupConfig(), gw.auth, capturedLog().log, (t) => again.push(t));
    expect(again).toEqual([]);
    expect((await readFile(file!, 'utf8')).trim()).toBe(token);
    expect((await gw.requestAs(token, 'GET', '/auth/keys')).status).toBe(200);

    // Deleting the file gives a new token at the next start; the old one is revoked.
    await rm(file!);
    const third: string[] = [];
    await ensureZeroSetupAdminToken(zeroSetupConfig(), gw.auth, capturedLog().log, (t) => third.push(t));
    const replaced = (await readFile(file!, 'utf8')).trim();
    expect(replaced).not.toBe(token);
    expect(third.join('')).toContain(replaced);
    expect((await gw.requestAs(token, 'GET', '/auth/keys')).status).toBe(401);
    expect((await gw.requestAs(replaced, 'GET', '/auth/keys')).status).toBe(200);
  });

  it('does nothing when GATEWAY_ADMIN_TOKEN is set or auth is disabled', async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'ccg-auth-'));
    try {
      expect(await ensureZeroSetupAdminToken(loadConfig({ DATA_DIR: other, GATEWAY_ADMIN_TOKEN: 'y'.repeat(30) }), gw.auth, capturedLog().log, () => undefined)).toBeUndefined();
      expect(await ensureZeroSetupAdminToken(loadConfig({ DATA_DIR: other, AUTH_DISABLED: 'true' }), gw.auth, capturedLog().log, () => undefined)).toBeUndefined();
      await expect(stat(path.join(other, 'secrets', 'admin-token'))).rejects.toThrow();
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('tokens stay out of the logs', () => {
  it('neither a good nor a bad token appears in the request log', async () => {
    const lines: string[] = [];
    const gw = await startTestGateway({ worker: false, env: { LOG_LEVEL: 'debug' }, logDestination: { write: (l: string) => void lines.push(l) } } as Parameters<typeof startTestGateway>[0]);
    try {
      const bad = 'ccg_bad-token-that-must-not-be-logged-000000000000';
      expect((await gw.requestAs(bad, 'GET', '/clusters')).status).toBe(401);
      expect((await gw.request('GET', '/clusters')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      const text = lines.join('');
      expect(text).toContain('"status":401');
      expect(text).not.toContain(bad);
      expect(text).not.toContain(gw.adminToken);
    } finally {
      await gw.close();
    }
  });
});
