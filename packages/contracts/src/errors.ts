/**
 * The gateway's error taxonomy. Services throw these; one HTTP middleware maps them to
 * statuses and the error envelope. Anything else is a 500 and gets logged.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request itself is wrong; `details.field` names the offending field when there is one. */
export class InputError extends GatewayError {
  constructor(message: string, details?: unknown) {
    super(400, 'INVALID_INPUT', message, details);
  }
}

export class NotFoundError extends GatewayError {
  constructor(message: string, details?: unknown) {
    super(404, 'NOT_FOUND', message, details);
  }
}

export class ConflictError extends GatewayError {
  constructor(message: string, details?: unknown, code = 'CONFLICT') {
    super(409, code, message, details);
  }
}

/** 412: If-Match named a version that is no longer current. */
export class StaleVersionError extends GatewayError {
  constructor(expected: number, actual: number) {
    super(412, 'STALE_VERSION', `version ${expected} is stale; the current version is ${actual}`, {
      expected_version: expected,
      current_version: actual,
    });
  }
}

/** 422: an Idempotency-Key reused with a different request body. */
export class IdempotencyMismatchError extends GatewayError {
  constructor(key: string) {
    super(422, 'IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${key}" was already used with a different request`);
  }
}

/** 503: a dependency (queue, database) is down; the client should retry later. */
export class UnavailableError extends GatewayError {
  constructor(message: string, retryAfterSeconds = 5, details?: unknown) {
    super(503, 'SERVICE_UNAVAILABLE', message, details, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/** 403: a pre-check policy rule refused the action; `details.reason` is the rule's input_data. */
export class PrecheckDeniedError extends GatewayError {
  constructor(action: string, ruleUri: string, reason: unknown) {
    super(403, 'PRECHECK_DENIED', `pre-check policy ${ruleUri} denied ${action}`, { action, policy_rule_uri: ruleUri, reason });
  }
}

/** 503: the pre-check could not be evaluated and the action's failure policy is closed. */
export class PrecheckUnavailableError extends GatewayError {
  constructor(action: string, ruleUri: string, cause: string) {
    super(503, 'PRECHECK_UNAVAILABLE', `pre-check policy ${ruleUri} for ${action} could not be evaluated: ${cause}`, { action, policy_rule_uri: ruleUri, cause }, { 'Retry-After': '5' });
  }
}
