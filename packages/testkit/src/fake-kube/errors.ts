import type { ResourceType } from './resources.js';
import { qualifiedResource } from './resources.js';

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

/** An API error; the router answers it as a `Status` object with `code` as the HTTP status. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

const resourceDetails = (rt: ResourceType, name: string): StatusDetails => ({
  name,
  ...(rt.group ? { group: rt.group } : {}),
  kind: rt.plural,
});

export const notFound = (rt: ResourceType, name: string): KubeError =>
  new KubeError(404, 'NotFound', `${qualifiedResource(rt)} "${name}" not found`, resourceDetails(rt, name));

export const alreadyExists = (rt: ResourceType, name: string): KubeError =>
  new KubeError(409, 'AlreadyExists', `${qualifiedResource(rt)} "${name}" already exists`, resourceDetails(rt, name));

export const conflict = (rt: ResourceType, name: string): KubeError =>
  new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(rt)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    resourceDetails(rt, name),
  );

export const badRequest = (message: string): KubeError => new KubeError(400, 'BadRequest', message);

export const forbidden = (rt: ResourceType, name: string, why: string): KubeError =>
  new KubeError(403, 'Forbidden', `${qualifiedResource(rt)} "${name}" is forbidden: ${why}`, resourceDetails(rt, name));

/** One field error of a 422 Invalid answer, worded like the API server's field.ErrorList. */
export interface FieldError {
  field: string;
  type: 'Required' | 'Invalid' | 'Forbidden' | 'Duplicate' | 'NotSupported';
  value?: unknown;
  detail?: string;
}

const causeReason: Record<FieldError['type'], string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  Forbidden: 'FieldValueForbidden',
  Duplicate: 'FieldValueDuplicate',
  NotSupported: 'FieldValueNotSupported',
};

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const entries = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`);
    return `map[string]string{${entries.join(', ')}}`;
  }
  return String(v);
}

function fieldErrorMessage(e: FieldError): string {
  const head =
    e.type === 'Required'
      ? 'Required value'
      : e.type === 'Forbidden'
        ? 'Forbidden'
        : `${e.type === 'Duplicate' ? 'Duplicate value' : e.type === 'NotSupported' ? 'Unsupported value' : 'Invalid value'}: ${describeValue(e.value)}`;
  return e.detail ? `${head}: ${e.detail}` : head;
}

export function invalid(rt: ResourceType, name: string, errors: FieldError[]): KubeError {
  const kind = rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
  const parts = errors.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new KubeError(422, 'Invalid', `${kind} "${name}" is invalid: ${list}`, {
    name,
    ...(rt.group ? { group: rt.group } : {}),
    kind: rt.kind,
    causes: errors.map((e) => ({ reason: causeReason[e.type], message: fieldErrorMessage(e), field: e.field })),
  });
}
