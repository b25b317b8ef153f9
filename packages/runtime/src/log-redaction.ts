/**
 * Secrets never reach a log line. Every logger comes from `createLogger`, which runs each log
 * object through `redactSecrets` (pino `formatters.log`): the value of any key named below, at
 * any depth, becomes "[redacted]". Child-logger bindings do not pass through formatters, so the
 * same keys are also pino `redact` paths at the top level (`REDACT_PATHS`, applied to bindings
 * once, when the child is made). pino's `redact` wildcards were not used for depth: measured
 * ~6 µs per line for `*.key`, ~13 µs for `*.*.key` and ~42 µs for `*.*.*.key`, against ~1.4 µs for
 * this walk at any depth; logging is on every request's path.
 */

/** Keys whose values are secrets (compared case-insensitively, `-` and `_` alike). */
export const SECRET_LOG_KEYS = [
  'authorization',
  'proxy_authorization',
  'cookie',
  'x_api_key',
  'api_key',
  'apikey',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'admin_token',
  'password',
  'secret',
  'secrets',
  'client_secret',
  'private_key',
  'encryption_key',
  'kube_config_data',
  'kube_config',
  'kubeconfig',
  'client_key_data',
  'client_certificate_data',
] as const;

export const REDACTED = '[redacted]';

/** pino `redact` paths: the keys above at the top level of a line or of a child's bindings, and request headers. */
export const REDACT_PATHS: string[] = [...SECRET_LOG_KEYS, 'Authorization', 'req.headers.authorization', 'headers.authorization', 'headers.Authorization'];

const SECRET = new Set<string>(SECRET_LOG_KEYS);
const MAX_DEPTH = 8;

const isSecretKey = (key: string): boolean => SECRET.has(key.toLowerCase().replace(/-/g, '_'));

/**
 * A copy of `value` with every secret key's value replaced; objects without secrets are returned
 * as they are (nothing is copied on the common path). Errors are left to pino's serializer.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || value instanceof Error) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = redactSecrets(value[i], depth + 1);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return (out ?? value) as T;
  }
  if (Buffer.isBuffer(value) || value instanceof Date) return value;
  let out: Record<string, unknown> | undefined;
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    const v = obj[key];
    const next = isSecretKey(key) ? (v === undefined || v === null ? v : REDACTED) : redactSecrets(v, depth + 1);
    if (next !== v) (out ??= { ...obj })[key] = next;
  }
  return (out ?? value) as T;
}
