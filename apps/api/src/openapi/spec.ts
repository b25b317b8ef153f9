/**
 * How a route is described for the OpenAPI document. Every route the app serves has exactly one
 * OperationSpec (or, for a sub-application mounted under a prefix, one MountSpec) in
 * `operations/`; the route-walking test fails when a route has none or an entry has no route.
 */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A JSON Schema object: one of the schemas ajv validates with (referenced, never copied). */
export type Schema = object;

/** The request body of a task-starting route: the TaskDefinition's own `inputSchema`, looked up in the catalogue. */
export interface TaskInputRef {
  taskInput: string;
}

export const taskInput = (taskType: string): TaskInputRef => ({ taskInput: taskType });

/** Request headers the gateway reads on some routes. */
export type RequestHeader = 'If-Match' | 'Idempotency-Key';

export interface OperationSpec {
  method: HttpMethod;
  /** The Express pattern, e.g. `/clusters/read/:id` (written `{id}` in the document). */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Descriptions of path parameters (each `:name` is a string parameter either way). */
  pathParams?: Record<string, string>;
  /** The JSON Schema (type object) the route validates its query string with; each property is a query parameter. */
  query?: Schema;
  headers?: RequestHeader[];
  /** The request body's schema. */
  body?: Schema | TaskInputRef;
  /** Whether a body must be sent. @defaultValue true when `body` is given */
  bodyRequired?: boolean;
  /** What the success answer carries. `envelope` (default): `{success: true, data}` with `data` below. */
  produces?: 'envelope' | 'event-stream' | 'html' | 'javascript' | 'prometheus' | 'json';
  /** The success status. @defaultValue 200 */
  status?: number;
  /** Schema of `data` in the success envelope (or of the whole JSON for `json`). @defaultValue any JSON */
  data?: Schema;
  /**
   * Error statuses this route can answer besides the derived ones: 400 with input, 413/415 with a
   * body, 503 unless `noDependencies`, and 401/403 unless the auth route table makes it public.
   * Who may call it is not declared here: the document reads apps/api/src/auth/route-roles.ts.
   */
  errors?: number[];
  /** The answer sets `ETag` (the document's version). */
  etag?: boolean;
  /** Does not touch the database or queue, so it never answers 503. */
  noDependencies?: boolean;
}

/**
 * A sub-application mounted under a prefix (bull-board, static assets): documented as one
 * operation, `GET <prefix>`; its own internal routes are not listed one by one.
 */
export interface MountSpec {
  mount: string;
  summary: string;
  description?: string;
  tags: string[];
  produces: 'html' | 'static';
}

export type RouteSpec = OperationSpec | MountSpec;

export const isMount = (s: RouteSpec): s is MountSpec => 'mount' in s;
