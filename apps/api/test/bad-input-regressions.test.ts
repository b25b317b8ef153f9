import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '@ccg/testkit';
import { RawClient, type RawResponse } from './fuzz/lib/client.js';
import { credentialsOf } from './fuzz/lib/fuzz-gateway.js';
import { deepJson } from './fuzz/lib/json-text.js';

/**
 * Cases the bad-input fuzz tests (test/fuzz) found answering 500 or outside the error envelope,
 * kept as plain regression tests. See docs/ARCHITECTURE.md "Faults and bad input".
 */

function expectEnvelope(res: RawResponse, status: number, code?: string): void {
  expect({ status: res.status, success: res.json?.success }).toEqual({ status, success: false });
  expect(typeof res.json.message).toBe('string');
  if (code) expect(res.json.error.code).toBe(code);
}

/** Writes raw bytes on a fresh connection and returns what came back before the close. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let out = '';
    socket.on('data', (d) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer: ${out}`)));
  });
}

describe('bad input the fuzz tests found', () => {
  let gw: TestGateway;
  let client: RawClient;
  const json = { 'Content-Type': 'application/json' };
  beforeAll(async () => {
    gw = await startTestGateway({ worker: false });
    client = new RawClient(gw.url, credentialsOf(gw));
  });
  afterAll(async () => {
    client.close();
    await gw.close();
  });

  describe('the JSON body guard', () => {
    it('a field nested 10,000 levels deep is a 400 naming it (JSON.stringify overflowed into a 500)', async () => {
      const res = await client.send({ method: 'POST', path: '/clusters/create', headers: json, body: `{"id":"deep","clusterMetadata":{"additionalInfo":${deepJson(10_000, 'array')}}}` });
      expectEnvelope(res, 400, 'INVALID_INPUT');
      expect(res.json.error.details.field).toMatch(/^clusterMetadata\.additionalInfo\.0\.0/);
      expect(res.json.message).toContain('nested deeper than 64 levels');
    });

    it('64 levels are still accepted', async () => {
      const res = await client.send({ method: 'POST', path: '/clusters/create', headers: json, body: `{"id":"deep-ok","clusterMetadata":{"additionalInfo":${deepJson(61, 'object')}}}` });
      expect(res.status).toBe(200);
    });

    it.each([
      ['NUL', '"a\\u0000b"'],
      ['an unpaired surrogate', '"\\ud800"'],
    ])('a string with %s is a 400 naming the field (Postgres refused it: 500)', async (_what, value) => {
      const res = await client.send({ method: 'POST', path: '/clusters/create', headers: json, body: `{"id":"nul","regionId":${value}}` });
      expectEnvelope(res, 400, 'INVALID_INPUT');
      expect(res.json.error.details.field).toBe('regionId');
    });

    it('a __proto__ key is a 400 naming where it is, and nothing is polluted', async () => {
      const res = await client.send({ method: 'POST', path: '/clusters/create', headers: json, body: '{"id":"proto","config":{"__proto__":{"polluted":"yes"}}}' });
      expectEnvelope(res, 400, 'INVALID_INPUT');
      expect(res.json.error.details.field).toBe('config.__proto__');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((await client.send({ method: 'GET', path: '/clusters/read/proto' })).status).toBe(404);
    });
  });

  it('constructor / prototype keys are stored as plain data and cannot be reached through dotted paths', async () => {
    const doc = { id: 'proto-data', clusterMetadata: { additionalInfo: { constructor: { prototype: { polluted: 'yes' } }, toString: 'x', prototype: 1 } } };
    expect((await client.send({ method: 'POST', path: '/clusters/create', headers: json, body: JSON.stringify(doc) })).status).toBe(200);
    const read = await client.send({ method: 'GET', path: '/clusters/read/proto-data' });
    expect(read.json.data.clusterMetadata.additionalInfo).toEqual(doc.clusterMetadata.additionalInfo);
    const update = await client.send({ method: 'PATCH', path: '/clusters/update/proto-data', headers: json, body: '{"clusterMetadata.additionalInfo.constructor.prototype.polluted":"no"}' });
    expectEnvelope(update, 400, 'INVALID_INPUT');
    expect(update.json.error.details.field).toBe('clusterMetadata.additionalInfo.constructor.prototype.polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  describe('path and query', () => {
    it('%00 in a path parameter is a 400 naming it (Postgres refused it: 500)', async () => {
      const res = await client.send({ method: 'GET', path: '/clusters/read/a%00b' });
      expectEnvelope(res, 400, 'INVALID_INPUT');
      expect(res.json.error.details.field).toBe('id');
    });

    it('%00 in a query value is a 400 naming the parameter', async () => {
      const res = await client.send({ method: 'GET', path: '/tasks?task_type=a%00' });
      expectEnvelope(res, 400, 'INVALID_INPUT');
      expect(res.json.error.details.field).toBe('task_type');
    });

    it('a __proto__ query parameter is refused where unknown parameters are (it used to vanish)', async () => {
      const res = await client.send({ method: 'GET', path: '/tasks?__proto__=x' });
      expectEnvelope(res, 400, 'INVALID_INPUT');
      expect(res.json.error.details.field).toBe('__proto__');
    });
  });

  describe('requests Node refuses before Express', () => {
    it('oversized headers are a 431 in the envelope, on a reused keep-alive connection too', async () => {
      expect((await client.send({ method: 'GET', path: '/healthz' })).status).toBe(200);
      const res = await client.send({ method: 'GET', path: '/healthz', headers: { 'X-Padding': 'h'.repeat(20_000) } });
      expectEnvelope(res, 431, 'HEADERS_TOO_LARGE');
      expect((await client.send({ method: 'GET', path: '/healthz' })).status).toBe(200);
    });

    it('a malformed request is a 400 in the envelope', async () => {
      const answer = await rawExchange(gw.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('MALFORMED_REQUEST');
    });

    it('1,200 small headers are served (Node dropped the Host header past 1,000 and answered a bodiless 400)', async () => {
      const headers = Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`x-h-${i}`, String(i)]));
      const res = await client.send({ method: 'GET', path: '/healthz', headers });
      expect(res.status).toBe(200);
    });

    it('an Expect header other than 100-continue is a 417 in the envelope', async () => {
      const res = await client.send({ method: 'GET', path: '/healthz', headers: { Expect: 'tea' } });
      expectEnvelope(res, 417, 'EXPECTATION_FAILED');
    });
  });

  it('POST /blockActions/deallocate with an array body is a 400 naming the body', async () => {
    const res = await client.send({ method: 'POST', path: '/blockActions/deallocate', headers: json, body: '["b1"]' });
    expectEnvelope(res, 400, 'INVALID_INPUT');
    expect(res.json.error.details.field).toBe('(body)');
  });
});
