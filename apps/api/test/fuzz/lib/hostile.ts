import fc from 'fast-check';
import { cloneJson, deepJson, defineOwn, toJsonText } from './json-text.js';
import type { Rejection } from './expect.js';

/**
 * Route-independent hostile requests: bodies, path segments, query strings and headers that
 * every route must refuse (or ignore) without a 5xx. Expectations that hold on every route are
 * given here; route-dependent ones are decided by the caller from the route's spec.
 */

export interface HostileBody {
  kind: string;
  /** Raw bytes sent; undefined = no body. */
  body?: string | Buffer;
  contentType?: string;
  /** Send with `Transfer-Encoding: chunked` (no Content-Length). */
  chunked?: boolean;
  expect?: Rejection;
}

const isJsonContainer = (s: string): boolean => {
  try {
    const v = JSON.parse(s);
    return typeof v === 'object' && v !== null;
  } catch {
    return false;
  }
};

/** Not JSON (or JSON that is not an object or array, which the parser refuses in strict mode). */
const malformedJson = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 200 }),
    fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }),
    fc.constantFrom('{', '[', '{"a":}', '{"a" 1}', "{'a': 1}", '{"a":1,}', '[1,2', 'null', 'true', '42', '"str"', 'NaN', '{"a":undefined}', '\uFEFF\uFEFF{}', '{"a":1}}', '<xml/>', 'a=1&b=2', '{"\\u00"}'),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)).map((s) => s.slice(0, Math.max(1, s.length - 1))),
  )
  .filter((s) => s.length > 0 && !isJsonContainer(s));

const wrongContentType = fc.oneof(
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/html', 'application/octet-stream', 'image/png', 'text/json', 'application/jsonx', 'json', '*/*', 'application/json-patch'),
  fc.tuple(fc.stringMatching(/^[a-z]{1,10}$/), fc.stringMatching(/^[a-z0-9.+-]{1,15}$/)).map(([t, s]) => `${t}/${s}`).filter((ct) => ct !== 'application/json' && !/^application\/.*\+json$/.test(ct)),
);

const unsupportedCharset = fc.constantFrom('latin1', 'iso-8859-1', 'us-ascii', 'windows-1252', 'x-klingon').map((c) => `application/json; charset=${c}`);

/** An example body with a hostile value planted at the root (route-independent variants). */
function plantAtRoot(example: unknown, key: string, value: unknown): string {
  const obj = typeof example === 'object' && example !== null && !Array.isArray(example) ? cloneJson(example) : {};
  defineOwn(obj, key, value);
  return toJsonText(obj);
}

export function hostileBodies(example: unknown, bodyLimit: number): fc.Arbitrary<HostileBody> {
  const exampleText = toJsonText(example ?? {});
  return fc.oneof(
    { weight: 4, arbitrary: malformedJson.map((body) => ({ kind: 'malformed-json', body, contentType: 'application/json', expect: { status: [400], code: 'INVALID_JSON', names: ['(body)'] } })) },
    { weight: 3, arbitrary: wrongContentType.map((ct) => ({ kind: 'wrong-content-type', body: exampleText, contentType: ct, expect: { status: [415], names: ['Content-Type'] } })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'no-content-type', body: exampleText, expect: { status: [415], names: ['Content-Type'] } }) },
    { weight: 1, arbitrary: unsupportedCharset.map((ct) => ({ kind: 'unsupported-charset', body: exampleText, contentType: ct, expect: { status: [415], names: ['charset'] } })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 65, max: 500 }) }, { weight: 1, arbitrary: fc.constant(10_000) }), fc.constantFrom('array' as const, 'object' as const))
        .map(([depth, k]) => ({ kind: `deep-${k}-${depth}`, body: deepJson(depth, k), contentType: 'application/json', expect: { status: [400], names: ['nested deeper'] } })),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom({ polluted: 'yes' }, { toString: 'x' }, [1], null, 'x').map((v) => ({
        kind: '__proto__-key',
        body: plantAtRoot(example, '__proto__', v),
        contentType: 'application/json',
        expect: { status: [400], names: ['__proto__'] },
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('{"constructor":{"prototype":{"polluted":"yes"}}}', '{"a":{"__proto__":{"polluted":"yes"}}}', '[{"__proto__":{"polluted":"yes"}}]').map((body) => ({
        kind: 'nested-__proto__',
        body,
        contentType: 'application/json',
        // `constructor.prototype` is plain data in a parsed body: refused, ignored or stored, never
        // applied (the pollution check after each route looks at Object.prototype).
        expect: body.includes('__proto__') ? { status: [400], names: ['__proto__'] } : undefined,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udc00y').map((v) => ({
        kind: 'unstorable-string',
        body: plantAtRoot(example, 'fuzz_note', v),
        contentType: 'application/json',
        expect: { status: [400], names: ['fuzz_note'] },
      })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.boolean()).map(([extra, chunked]) => ({
        kind: chunked ? 'over-limit-chunked' : 'over-limit',
        body: `{"pad":"${'p'.repeat(bodyLimit + extra)}"}`,
        contentType: 'application/json',
        chunked,
        expect: { status: [413], code: 'PAYLOAD_TOO_LARGE', names: ['limit'] },
      })),
    },
  );
}

/** Path segments that are not ids: huge, unicode, traversal, NUL, broken percent-encoding. Raw (already encoded) text. */
export const hostileSegment: fc.Arbitrary<{ kind: string; raw: string }> = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2E%2E%2F%2E%2E', '..%2F..%2Fetc%2Fpasswd', '%2F', '%00', 'a%00b', '%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%FF%FE', '%25', '%20', '%0A', '%0D%0A', 'a;b', '~', '%7B%7D', '*', '__proto__', 'constructor', 'prototype', '%5F%5Fproto%5F%5F').map((raw) => ({ kind: 'special', raw })),
  fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).map((s) => ({ kind: 'unicode', raw: encodeURIComponent(s) })),
  fc.uint8Array({ minLength: 1, maxLength: 30 }).map((b) => ({ kind: 'bytes', raw: [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('') })),
  fc.integer({ min: 254, max: 4000 }).map((n) => ({ kind: 'long', raw: 'a'.repeat(n) })),
  fc.integer({ min: 17_000, max: 20_000 }).map((n) => ({ kind: 'huge', raw: 'b'.repeat(n) })),
);

/** One `key=value` query pair (maybe repeated) with hostile keys and values. Raw text plus how querystring decodes it. */
export interface HostileQuery {
  raw: string;
  key: string;
  repeated: boolean;
}

export function hostileQuery(knownKeys: string[]): fc.Arbitrary<HostileQuery> {
  const key = fc.oneof(
    { weight: 3, arbitrary: knownKeys.length ? fc.constantFrom(...knownKeys) : fc.constant('limit') },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'limit', 'cursor', 'force', 'live', 'x') },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z_]{1,12}$/) },
  );
  const value = fc.oneof(
    fc.constantFrom('', '%00', 'a%00', '%zz', '%E0%A4', '-1', '0', '99999', '1e3', 'true', 'false', 'null', '[]', '{}', '%7B%22a%22%3A1%7D', '..%2F..', '%ED%A0%80'),
    fc.string({ maxLength: 30, unit: 'grapheme' }).map(encodeURIComponent),
    fc.integer({ min: 1000, max: 6000 }).map((n) => 'v'.repeat(n)),
  );
  return fc.tuple(key, value, fc.boolean(), value).map(([k, v, repeated, v2]) => ({
    raw: repeated ? `${k}=${v}&${k}=${v2}` : `${k}=${v}`,
    key: k,
    repeated,
  }));
}

export interface HostileHeader {
  kind: string;
  headers: Record<string, string>;
  /** The header a route that reads it must name in its 400, when it is malformed. */
  header?: 'If-Match' | 'Idempotency-Key' | 'Authorization';
  expect?: Rejection;
}

/** Header values the node:http client can send (no control characters). */
const headerText = fc.string({ maxLength: 40, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
const latin1Text = fc.string({ minLength: 1, maxLength: 20, unit: fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)) });

export const hostileHeaders: fc.Arbitrary<HostileHeader> = fc.oneof(
  fc
    .oneof(headerText, latin1Text, fc.constantFrom('"abc"', 'W/"x"', '"-1"', '"1.5"', '"9999999999"', '""', '"3', '3"x', 'W/', '*,*', '"1", "2"', 'abc'))
    .filter((v) => !/^(?:W\/)?"?\d{1,9}"?$/.test(v.trim()) && v.trim() !== '' && v.trim() !== '*')
    .map((v) => ({ kind: 'bad-if-match', headers: { 'If-Match': v }, header: 'If-Match' as const })),
  fc
    .oneof(
      latin1Text,
      fc.constantFrom(' ', 'a b', 'tab\there', 'é'),
      fc.integer({ min: 201, max: 8000 }).map((n) => 'k'.repeat(n)),
    )
    .filter((v) => !/^[\x21-\x7e]{1,200}$/.test(v.trim()) && v.trim() !== '')
    .map((v) => ({ kind: 'bad-idempotency-key', headers: { 'Idempotency-Key': v }, header: 'Idempotency-Key' as const })),
  fc
    .oneof(headerText, latin1Text, fc.constantFrom('Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'Bearer ' + 'x'.repeat(5000), 'Bearer a.b.c', 'bearer null', 'Token abc', 'Bearer \u00ff\u00fe'))
    .map((v) => ({ kind: 'garbage-authorization', headers: { Authorization: v }, header: 'Authorization' as const })),
  fc.oneof(headerText, latin1Text, fc.integer({ min: 129, max: 5000 }).map((n) => 'r'.repeat(n))).map((v) => ({ kind: 'odd-request-id', headers: { 'X-Request-Id': v } })),
  fc.integer({ min: 17_000, max: 20_000 }).map((n) => ({
    kind: 'huge-header',
    headers: { 'X-Fuzz-Padding': 'h'.repeat(n) },
    expect: { status: [431], code: 'HEADERS_TOO_LARGE', names: ['header'] },
  })),
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 50, max: 400 }) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1500 }) }).map((n) => ({
    kind: 'many-headers',
    headers: Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-fuzz-${i}`, String(i)])),
  })),
  fc.tuple(fc.constantFrom('Accept', 'Accept-Encoding', 'Content-Type', 'Cookie', 'X-Forwarded-For', 'Host', 'Range', 'Expect'), fc.oneof(headerText, latin1Text)).map(([name, v]) => ({ kind: `odd-${name.toLowerCase()}`, headers: { [name]: v } })),
);
