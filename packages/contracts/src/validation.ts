import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { InputError } from './errors.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
addFormats(ajv);

const compiled = new WeakMap<object, ValidateFunction>();

/** JSON-pointer-ish location of an ajv error as a dotted path, e.g. `nodes.nodeData.0.gpus.count`. */
function fieldOf(err: ErrorObject): string {
  const base = err.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
  const missing = err.keyword === 'required' ? (err.params as { missingProperty: string }).missingProperty : undefined;
  const extra = err.keyword === 'additionalProperties' ? (err.params as { additionalProperty: string }).additionalProperty : undefined;
  const leaf = missing ?? extra;
  return [base, leaf].filter(Boolean).join('.') || '(body)';
}

function describe(err: ErrorObject): string {
  const field = fieldOf(err);
  if (err.keyword === 'required') return `${field} is required`;
  if (err.keyword === 'additionalProperties') return `${field} is not allowed`;
  return `${field} ${err.message ?? 'is invalid'}`;
}

/**
 * Validates `data` against a JSON Schema and returns it typed, or throws a 400 InputError whose
 * message names the first bad field and whose details list every problem.
 */
export function validate<T>(schema: object, data: unknown, what = 'body'): T {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  if (fn(data)) return data as T;
  const errors = (fn.errors ?? []).slice(0, 20);
  const first = errors[0];
  throw new InputError(`invalid ${what}: ${first ? describe(first) : 'does not match the schema'}`, {
    field: first ? fieldOf(first) : undefined,
    errors: errors.map((e) => ({ field: fieldOf(e), message: describe(e) })),
  });
}
