import fc from 'fast-check';
import { validate } from '@ccg/contracts';
import { cloneJson, deepJson, defineOwn, fieldName, getAt, rawJson, REMOVE, setAt, toJsonText, type PathSegment } from './json-text.js';
import type { Rejection } from './expect.js';

/**
 * Invalid request bodies derived from a route's JSON Schema and one valid example: each case
 * changes one field of the example (wrong type, missing, too long, pattern, range, enum, extra
 * key, too many items...) or plants a hostile value in it (`__proto__`, 10,000-level nesting, NUL).
 *
 * The expectation comes from the schema itself: a mutated body the schema rejects must get a 400
 * naming the field; one it still accepts (an extra key on an open object, a long string without
 * maxLength) only has to be answered without a 5xx. Hostile values are refused by the gateway's
 * body guard on every route, whatever the schema says.
 */

type Schema = Record<string, any>;

export interface BodyCase {
  kind: string;
  field: string;
  text: string;
  /** undefined: the body is valid for the schema; only the invariants apply. */
  expect?: Rejection;
}

interface Site {
  path: PathSegment[];
  schema: Schema;
  value: unknown;
  present: boolean;
  required: boolean;
}

const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'array', 'object'] as const;
type JsonType = (typeof JSON_TYPES)[number];

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON types a schema admits, or undefined when it does not constrain the type. */
function allowedTypes(s: Schema): Set<JsonType> | undefined {
  if (s.type) return new Set((Array.isArray(s.type) ? s.type : [s.type]) as JsonType[]);
  const values: unknown[] | undefined = 'const' in s ? [s.const] : s.enum;
  if (values) return new Set(values.map(typeOfValue));
  const branches: Schema[] | undefined = s.oneOf ?? s.anyOf;
  if (branches) {
    const out = new Set<JsonType>();
    for (const b of branches) {
      const t = allowedTypes(b);
      if (!t) return undefined;
      t.forEach((x) => out.add(x));
    }
    return out;
  }
  return undefined;
}

function typeOfValue(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as JsonType;
}

function admits(allowed: Set<JsonType>, t: JsonType): boolean {
  return allowed.has(t) || (t === 'integer' && allowed.has('number'));
}

const fractional = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).filter((d) => !Number.isInteger(d));

function valueOfType(t: JsonType): fc.Arbitrary<unknown> {
  switch (t) {
    case 'string':
      return fc.string({ maxLength: 20 });
    case 'number':
      return fractional;
    case 'integer':
      return fc.integer();
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxLength: 3 });
    case 'object':
      return fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.integer(), { maxKeys: 3 });
  }
}

function collectSites(schema: Schema, value: unknown, path: PathSegment[], required: boolean, out: Site[]): void {
  out.push({ path, schema, value, present: true, required });
  if (isPlainObject(value)) {
    const props: Record<string, Schema> = schema.properties ?? {};
    const extra: Schema = isPlainObject(schema.additionalProperties) ? schema.additionalProperties : {};
    const req: string[] = schema.required ?? [];
    for (const key of Object.keys(value)) collectSites(props[key] ?? extra, value[key], [...path, key], req.includes(key), out);
    for (const key of Object.keys(props)) {
      if (!(key in value)) out.push({ path: [...path, key], schema: props[key], value: undefined, present: false, required: false });
    }
  } else if (Array.isArray(value) && value.length > 0 && isPlainObject(schema.items)) {
    collectSites(schema.items, value[0], [...path, 0], false, out);
  }
}

/** Does the route's schema accept this body? (The same ajv validation the gateway runs.) */
function schemaAccepts(schema: object, text: string): boolean {
  try {
    validate(schema, JSON.parse(text), 'body');
    return true;
  } catch {
    return false;
  }
}

const keyName = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), fc.constantFrom('constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'));

/** Depths beyond the guard's limit, up to the 10,000 levels the issue names. */
const deepValue = fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 65, max: 300 }) }, { weight: 1, arbitrary: fc.constantFrom(1000, 10_000) }), fc.constantFrom('array' as const, 'object' as const)).map(([d, k]) => ({ depth: d, raw: rawJson(deepJson(d, k)) }));

/** Strings Postgres cannot store (NUL) or that are not valid Unicode (an unpaired surrogate). */
const unstorableString = fc.tuple(fc.string({ maxLength: 5 }), fc.constantFrom('\u0000', '\ud800', '\udfff', 'a\u0000'), fc.string({ maxLength: 5 })).map(([a, b, c]) => a + b + c);

export interface MutationOptions {
  /** The gateway's body limit: generated bodies stay under it. */
  bodyLimit: number;
  /** Other names the route gives a field in its errors (see BodySpec.fieldAliases). */
  fieldAliases?: Record<string, string>;
}

/** Every mutation arbitrary that applies to the example, as one weighted arbitrary of cases. */
export function schemaBodyCases(schema: object, example: unknown, opts: MutationOptions): fc.Arbitrary<BodyCase> {
  const sites: Site[] = [];
  collectSites(schema as Schema, example, [], true, sites);
  const arbs: fc.Arbitrary<BodyCase>[] = [];

  const byOracle = (kind: string, path: PathSegment[], field: string) => (body: unknown): BodyCase => {
    const text = toJsonText(body);
    const names = opts.fieldAliases?.[field] ? [field, opts.fieldAliases[field]] : [field];
    return { kind, field, text, expect: schemaAccepts(schema, text) ? undefined : { status: [400], names } };
  };
  const guarded = (kind: string, field: string, names: string[]) => (body: unknown): BodyCase => ({
    kind,
    field,
    text: toJsonText(body),
    expect: { status: [400], names },
  });

  for (const site of sites) {
    const { path, schema: s } = site;
    const field = fieldName(path);
    const at = (v: unknown) => setAt(example, path, v);
    const allowed = allowedTypes(s);

    if (allowed) {
      const wrong = JSON_TYPES.filter((t) => !admits(allowed, t));
      if (wrong.length) arbs.push(fc.constantFrom(...wrong).chain(valueOfType).map((v) => byOracle('wrong-type', path, field)(at(v))));
    }
    if (site.present && site.required && path.length > 0) arbs.push(fc.constant(byOracle('missing-required', path, field)(at(REMOVE))));
    if (typeof s.maxLength === 'number' && s.maxLength < opts.bodyLimit / 4) {
      arbs.push(fc.integer({ min: s.maxLength + 1, max: Math.min(s.maxLength + 5000, opts.bodyLimit / 4) }).map((n) => byOracle('too-long', path, field)(at('x'.repeat(n)))));
    }
    if (typeof s.minLength === 'number' && s.minLength > 0) arbs.push(fc.constant(byOracle('too-short', path, field)(at(''))));
    if (typeof s.pattern === 'string') {
      const re = new RegExp(s.pattern, 'u');
      const specials = fc.constantFrom('', ' ', '..', '../x', 'a b', '-x-', 'x'.repeat(300), 'ü', '😀', 'a\tb', '%00', 'a/b', 'a:b:c');
      arbs.push(fc.oneof(fc.string({ maxLength: 30 }), specials).filter((v) => !re.test(v)).map((v) => byOracle('pattern', path, field)(at(v))));
    }
    if (typeof s.minimum === 'number') arbs.push(fc.integer({ min: 1, max: 1e6 }).map((d) => byOracle('below-minimum', path, field)(at(s.minimum - d))));
    if (typeof s.maximum === 'number') arbs.push(fc.integer({ min: 1, max: 1e6 }).map((d) => byOracle('above-maximum', path, field)(at(s.maximum + d))));
    if (s.type === 'integer') arbs.push(fractional.map((v) => byOracle('not-integer', path, field)(at(v))));
    if (s.enum || 'const' in s) {
      const members = new Set((s.enum ?? [s.const]).map((v: unknown) => JSON.stringify(v)));
      arbs.push(fc.oneof(fc.string({ maxLength: 20 }), fc.integer()).filter((v) => !members.has(JSON.stringify(v))).map((v) => byOracle('not-in-enum', path, field)(at(v))));
    }
    if (Array.isArray(site.value)) {
      const item = site.value[0] ?? 0;
      const itemSize = toJsonText(item).length + 1;
      if (typeof s.maxItems === 'number' && (s.maxItems + 1) * itemSize < opts.bodyLimit * 0.8) {
        arbs.push(fc.integer({ min: 1, max: 3 }).map((d) => byOracle('too-many-items', path, field)(at(Array.from({ length: s.maxItems + d }, () => cloneJson(item))))));
      }
      if (typeof s.minItems === 'number' && s.minItems > 0) arbs.push(fc.constant(byOracle('too-few-items', path, field)(at([]))));
      if (s.uniqueItems && site.value.length > 0) arbs.push(fc.constant(byOracle('duplicate-items', path, field)(at([...site.value, cloneJson(site.value[0])]))));
      if (s.maxItems === undefined) {
        // A huge array where the schema sets no bound: it must be handled, not crash anything.
        const n = Math.min(20_000, Math.floor((opts.bodyLimit * 0.5) / itemSize));
        arbs.push(fc.integer({ min: Math.min(1000, n), max: n }).map((len) => byOracle('huge-array', path, field)(at(Array.from({ length: len }, () => cloneJson(item))))));
      }
    }
    if (site.present && typeof site.value === 'string' && s.maxLength === undefined) {
      arbs.push(fc.integer({ min: 10_000, max: Math.min(50_000, Math.floor(opts.bodyLimit * 0.5)) }).map((n) => byOracle('huge-string', path, field)(at('y'.repeat(n)))));
    }
    if (site.present && isPlainObject(site.value)) {
      const obj = site.value;
      if (s.additionalProperties === false) {
        arbs.push(keyName.filter((k) => !(k in (s.properties ?? {}))).map((k) => byOracle('extra-key', [...path, k], fieldName([...path, k]))(at({ ...obj, [k]: 1 }))));
      } else {
        arbs.push(keyName.map((k) => byOracle('open-extra-key', [...path, k], fieldName([...path, k]))(at(withKey(obj, k, { prototype: { polluted: 'yes' } })))));
      }
      if (typeof s.minProperties === 'number' && s.minProperties > 0) arbs.push(fc.constant(byOracle('too-few-properties', path, field)(at({}))));
      if (typeof s.maxProperties === 'number') {
        arbs.push(fc.constant(byOracle('too-many-properties', path, field)(at(Object.fromEntries(Array.from({ length: s.maxProperties + 1 }, (_, i) => [`k${i}`, i]))))));
      }
      if (s.propertyNames?.maxLength) arbs.push(fc.constant(byOracle('long-property-name', path, field)(at(withKey(obj, 'k'.repeat(s.propertyNames.maxLength + 1), 1)))));
      if (s.propertyNames?.minLength) arbs.push(fc.constant(byOracle('empty-property-name', path, field)(at(withKey(obj, '', 1)))));

      // Hostile values the body guard refuses on every route.
      const protoField = fieldName([...path, '__proto__']);
      arbs.push(fc.constant(guarded('__proto__-key', protoField, ['__proto__'])(at(withKey(obj, '__proto__', { polluted: 'yes' })))));
      arbs.push(unstorableString.map((k) => guarded('unstorable-key', field, [field, 'unpaired', 'NUL'])(at(withKey(obj, k, 1)))));
    }
    if (site.present) {
      // At the root the deepest path is all the gateway can name (`0.0.0...`).
      arbs.push(deepValue.map(({ raw }) => guarded('deep-nesting', field, path.length ? [field] : ['nested deeper'])(at(raw))));
      arbs.push(unstorableString.map((v) => guarded('unstorable-string', field, [field])(at(v))));
    }
  }
  return fc.oneof(...arbs);
}

function withKey(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = cloneJson(obj);
  defineOwn(copy, key, value);
  return copy;
}

/** Is `example` valid for `schema`? (Route specs are checked with this.) */
export function exampleIsValid(schema: object, example: unknown): true | string {
  try {
    validate(schema, example, 'example');
    return true;
  } catch (e) {
    return (e as Error).message;
  }
}

export { getAt };
