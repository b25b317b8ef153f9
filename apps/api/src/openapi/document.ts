import type { TaskCatalogue } from '@ccg/tasks';
import { accessFor, servedInternally } from '../auth/index.js';
import { componentSchemas } from './schemas.js';
import { isMount, type MountSpec, type OperationSpec, type RequestHeader, type RouteSpec, type Schema, type TaskInputRef } from './spec.js';

export interface DocumentOptions {
  routes: RouteSpec[];
  /** Task definitions: task-starting bodies are their `inputSchema`. */
  catalogue: TaskCatalogue;
  version?: string;
}

/** Express `/a/:id/b` → OpenAPI `/a/{id}/b`. */
export const openApiPath = (expressPath: string): string => expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const pathParamNames = (expressPath: string): string[] => [...expressPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input: `error.details.field` names the field (INVALID_INPUT, INVALID_JSON)',
  401: 'No or unknown credentials',
  403: "The caller's role may not do this, or a pre-check rule denied the action (PRECHECK_DENIED, reason in `error.details.reason`)",
  404: 'Not found',
  409: 'Conflict with the current state (the code says which)',
  412: 'If-Match names a stale version (STALE_VERSION)',
  413: 'Body larger than BODY_LIMIT',
  415: 'Body is not JSON',
  422: 'Idempotency-Key reused with another body, or the upstream refused the request',
  502: 'A cluster service failed (UPSTREAM_ERROR; its status and body in `error.details`)',
  503: 'A dependency (database, queue, pre-check rule) is unavailable; see Retry-After',
  504: 'A cluster service did not answer in time (UPSTREAM_TIMEOUT)',
};

const HEADER_PARAMS: Record<RequestHeader, object> = {
  'If-Match': {
    name: 'If-Match',
    in: 'header',
    required: false,
    description: 'The version (ETag) the change is based on; a stale one answers 412. `*` or absent: unconditional.',
    schema: { type: 'string' },
  },
  'Idempotency-Key': {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'The same key and body return the same task; the same key with another body answers 422.',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' },
  },
};

const pascal = (s: string): string => s.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');

/**
 * Builds the OpenAPI 3.1 document from the route catalogue. Schemas are JSON Schema 2020-12 as
 * OpenAPI 3.1 takes them; every object that is one of the named schemas becomes a `$ref`.
 */
export function buildOpenApiDocument(opts: DocumentOptions): Record<string, unknown> {
  const named = new Map<object, string>();
  const components: Record<string, object> = {};
  const addComponent = (name: string, schema: object) => {
    if (named.has(schema)) return;
    if (components[name]) throw new Error(`OpenAPI: two schemas are named ${name}`);
    named.set(schema, name);
    components[name] = schema;
  };
  for (const [name, schema] of Object.entries(componentSchemas)) addComponent(name, schema);
  const taskSchema = (ref: TaskInputRef): object => {
    const def = opts.catalogue.get(ref.taskInput);
    if (!def) throw new Error(`OpenAPI: the catalogue has no task type ${ref.taskInput}`);
    addComponent(`${pascal(ref.taskInput)}TaskInput`, def.inputSchema);
    return def.inputSchema;
  };

  const paths: Record<string, Record<string, unknown>> = {};
  const seen = new Set<string>();
  for (const spec of opts.routes) {
    const method = isMount(spec) ? 'get' : spec.method;
    const path = isMount(spec) ? spec.mount : spec.path;
    const key = `${method.toUpperCase()} ${path}`;
    if (seen.has(key)) throw new Error(`OpenAPI: ${key} is described twice`);
    seen.add(key);
    const item = (paths[openApiPath(path)] ??= {});
    const op = isMount(spec) ? mountOperation(spec) : operation(spec, taskSchema);
    Object.assign(op, accessOf(method, path, op.responses as Record<string, unknown>));
    item[method] = op;
  }

  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'Cluster Controller Gateway',
      version: opts.version ?? '0.1.0',
      description:
        'The gateway between the users of a GPU/AI compute network and its Kubernetes clusters. Success answers are `{success: true, data}`; failures are the ErrorEnvelope with a truthful status.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(opts.routes.flatMap((r) => r.tags))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (Authorization: Bearer <key>)' } },
      schemas: {} as Record<string, unknown>,
      responses: Object.fromEntries(
        Object.entries(STATUS_TEXT).map(([status, description]) => [
          `E${status}`,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } } },
        ]),
      ),
    },
  };
  // References are resolved last so every named schema (task inputs included) is known.
  for (const [name, schema] of Object.entries(components)) doc.components.schemas[name] = withRefs(schema, named, schema);
  doc.paths = withRefs(paths, named) as typeof paths;
  return doc;
}

function operation(spec: OperationSpec, taskSchema: (ref: TaskInputRef) => object): Record<string, unknown> {
  const names = pathParamNames(spec.path);
  const parameters: object[] = names.map((name) => ({
    name,
    in: 'path',
    required: true,
    description: spec.pathParams?.[name],
    schema: { type: 'string' },
  }));
  const query = spec.query as { properties?: Record<string, object>; required?: string[] } | undefined;
  for (const [name, schema] of Object.entries(query?.properties ?? {})) {
    parameters.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema });
  }
  for (const h of spec.headers ?? []) parameters.push(HEADER_PARAMS[h]);

  const op: Record<string, unknown> = {
    operationId: `${spec.method}${pascal(spec.path.replace(/:/g, 'by-'))}`,
    summary: spec.summary,
    tags: spec.tags,
  };
  if (spec.description) op.description = spec.description;
  if (parameters.length) op.parameters = parameters;
  if (spec.body) {
    const schema: Schema = 'taskInput' in spec.body ? taskSchema(spec.body as TaskInputRef) : spec.body;
    op.requestBody = { required: spec.bodyRequired ?? true, content: { 'application/json': { schema } } };
  }
  const responses: Record<string, unknown> = { [String(spec.status ?? 200)]: success(spec) };
  for (const status of errorStatuses(spec)) responses[String(status)] = { $ref: `#/components/responses/E${status}` };
  op.responses = responses;
  return op;
}

function errorStatuses(spec: OperationSpec): number[] {
  const out = new Set(spec.errors ?? []);
  if (spec.query || spec.body || spec.headers?.length) out.add(400);
  if (spec.body) {
    out.add(413);
    out.add(415);
  }
  if (spec.headers?.includes('If-Match')) out.add(412);
  if (spec.headers?.includes('Idempotency-Key')) out.add(422);
  if (!spec.noDependencies) out.add(503);
  for (const s of out) if (!STATUS_TEXT[s]) throw new Error(`OpenAPI: ${spec.method.toUpperCase()} ${spec.path} lists status ${s}, which has no description`);
  return [...out].sort((a, b) => a - b);
}

function success(spec: OperationSpec): object {
  const etag = spec.etag ? { headers: { ETag: { description: 'the document version', schema: { type: 'string' } } } } : {};
  switch (spec.produces ?? 'envelope') {
    case 'envelope':
      return {
        description: 'OK',
        ...etag,
        content: {
          'application/json': {
            schema: { type: 'object', required: ['success', 'data'], properties: { success: { const: true }, data: spec.data ?? {} } },
          },
        },
      };
    case 'json':
      return { description: 'OK', content: { 'application/json': { schema: spec.data ?? {} } } };
    case 'event-stream':
      return { description: 'A stream of server-sent events', content: { 'text/event-stream': { schema: { type: 'string' } } } };
    case 'html':
      return { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } };
    case 'javascript':
      return { description: 'A script', content: { 'text/javascript': { schema: { type: 'string' } } } };
    case 'prometheus':
      return { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } };
  }
}

function mountOperation(spec: MountSpec): Record<string, unknown> {
  const op: Record<string, unknown> = {
    operationId: `get${pascal(spec.mount)}`,
    summary: spec.summary,
    description: [spec.description, `Everything under \`${spec.mount}/\` is served by the same sub-application.`].filter(Boolean).join(' '),
    tags: spec.tags,
    responses: {
      '200': spec.produces === 'html' ? { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } } : { description: 'A file' },
      '404': { $ref: '#/components/responses/E404' },
    },
  };
  return op;
}

/**
 * Security from the route table of the auth module (apps/api/src/auth/route-roles.ts), the one
 * place that says who may call what: public routes get `security: []`; the others keep the
 * document's bearer requirement, list their roles in `x-roles`, and answer 401/403. `x-internal`
 * marks routes the internal listener (INTERNAL_PORT) also serves without a token.
 */
function accessOf(method: string, path: string, responses: Record<string, unknown>): Record<string, unknown> {
  const { access } = accessFor(method.toUpperCase(), path);
  const out: Record<string, unknown> = { 'x-internal': servedInternally(method.toUpperCase(), path) };
  if (access === 'public') {
    out.security = [];
    out['x-roles'] = [];
  } else {
    out['x-roles'] = [...access];
    responses['401'] = { $ref: '#/components/responses/E401' };
    responses['403'] = { $ref: '#/components/responses/E403' };
  }
  // Keep the responses in status order after adding 401/403.
  const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
  for (const k of Object.keys(responses)) delete responses[k];
  Object.assign(responses, sorted);
  return out;
}

/** A deep copy in which every named schema (other than `self`) is a `$ref`. */
function withRefs(value: unknown, named: Map<object, string>, self?: object): unknown {
  if (Array.isArray(value)) return value.map((v) => withRefs(v, named));
  if (value === null || typeof value !== 'object') return value;
  const name = named.get(value);
  if (name && value !== self) return { $ref: `#/components/schemas/${name}` };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withRefs(v, named)]));
}
