import fc from 'fast-check';
import type { RawResponse } from './client.js';

/**
 * Checks on one fuzz answer. They throw plain Errors (fast-check reports the case and shrinks it)
 * with the request and the answer, so a failure says what went wrong without a rerun.
 */

export class FuzzFailure extends Error {}

const CODE = /^[A-Z][A-Z0-9_]*$/;

function show(res: RawResponse): string {
  return `${res.status} ${res.text.slice(0, 600)}`;
}

/**
 * Every answer: no 5xx, JSON, and the success or the error envelope. `nonJsonSuccess`: the route
 * answers a document (HTML, Prometheus text) or a redirect when it succeeds; its errors are still the envelope.
 */
export function checkInvariants(res: RawResponse, what: string, nonJsonSuccess = false): void {
  if (res.status >= 500 || res.status < 200) throw new FuzzFailure(`${what}: status ${show(res)}`);
  if (nonJsonSuccess && res.status < 400) return;
  const b = res.json;
  if (b === undefined || typeof b !== 'object' || b === null) throw new FuzzFailure(`${what}: the answer is not JSON: ${show(res)}`);
  if (res.status >= 400) {
    const ok =
      b.success === false &&
      typeof b.message === 'string' &&
      b.message.length > 0 &&
      typeof b.error === 'object' &&
      b.error !== null &&
      typeof b.error.code === 'string' &&
      CODE.test(b.error.code) &&
      typeof b.error.message === 'string';
    if (!ok) throw new FuzzFailure(`${what}: not the error envelope: ${show(res)}`);
  } else if (b.success !== true) {
    throw new FuzzFailure(`${what}: a ${res.status} without {success: true}: ${show(res)}`);
  }
}

export interface Rejection {
  /** Accepted statuses. */
  status: number[];
  /** The envelope (message or details) must mention one of these (case-insensitive): the field or the problem. */
  names?: string[];
  /** The error code, when it is fixed. */
  code?: string;
}

/** The invariants, then the expected refusal. */
export function checkRejected(res: RawResponse, expected: Rejection, what: string): void {
  checkInvariants(res, what, false);
  if (!expected.status.includes(res.status)) throw new FuzzFailure(`${what}: expected ${expected.status.join('/')}, got ${show(res)}`);
  if (expected.code && res.json.error.code !== expected.code) throw new FuzzFailure(`${what}: expected code ${expected.code}, got ${show(res)}`);
  if (expected.names?.length) {
    const text = `${res.json.message} ${JSON.stringify(res.json.error.details ?? null)}`.toLowerCase();
    if (!expected.names.some((n) => text.includes(n.toLowerCase()))) {
      throw new FuzzFailure(`${what}: the error does not name ${expected.names.map((n) => JSON.stringify(n.slice(0, 80))).join(' or ')}: ${show(res)}`);
    }
  }
}

/** Object.prototype as it was when the module loaded: pollution adds keys to it. */
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

export function checkNoPrototypePollution(): void {
  const now = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  if (now !== prototypeKeys || ({} as Record<string, unknown>).polluted !== undefined) {
    throw new FuzzFailure(`Object.prototype was polluted: ${now}`);
  }
}

/** Makes fast-check print a case briefly (long bodies and headers cut to 200 characters). */
export function brief<T extends object>(value: T): T {
  const c = { ...value };
  const text = () => JSON.stringify(c, (_k, v: unknown) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…(${v.length} chars)` : v));
  Object.defineProperty(c, fc.toStringMethod, { value: text, enumerable: false });
  return c;
}
