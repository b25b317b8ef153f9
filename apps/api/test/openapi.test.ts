import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { clusterSchema, listQuerySchema } from '@ccg/contracts';
import { startTestGateway, type TestGateway } from '@ccg/testkit';
import { listRoutes } from '../src/auth/index.js';
import { openApiPath } from '../src/openapi/document.js';

let gw: TestGateway;
let doc: any;
beforeAll(async () => {
  gw = await startTestGateway({ worker: false });
  const res = await fetch(`${gw.url}/openapi.json`); // public: no token
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = await res.json();
});
afterAll(async () => {
  await gw?.close();
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toBe('3.1.0');
  });

  it('describes every route of the router, and only those (method + path both ways)', () => {
    const served = new Set<string>();
    // A sub-application or static tree mounted under a prefix is documented as `GET <prefix>`.
    for (const r of listRoutes(gw.app)) served.add(r.prefix ? `GET ${openApiPath(r.path)}` : `${r.method.toUpperCase()} ${openApiPath(r.path)}`);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) for (const m of Object.keys(item)) if (METHODS.includes(m)) documented.add(`${m.toUpperCase()} ${path}`);
    expect([...served].filter((k) => !documented.has(k)).sort()).toEqual([]);
    expect([...documented].filter((k) => !served.has(k)).sort()).toEqual([]);
    // The walk sees the routes that matter (a walker that found nothing would pass the above).
    expect(served.has('GET /clusters/read/{id}')).toBe(true);
    expect(served.has('GET /admin/queues')).toBe(true);
    expect(served.size).toBeGreaterThan(60);
  });

  it('takes request schemas by reference from the schemas ajv validates with', () => {
    expect(doc.components.schemas.Cluster).toEqual(JSON.parse(JSON.stringify({ ...clusterSchema, properties: { ...clusterSchema.properties, nodes: { ...clusterSchema.properties.nodes, properties: { ...clusterSchema.properties.nodes.properties, nodeData: { type: 'array', items: { $ref: '#/components/schemas/Node' } } } } } })));
    const create = doc.paths['/clusters/create'].post;
    expect(create.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Cluster' });
    // Task-starting bodies are the task definition's inputSchema.
    const diag = doc.paths['/admin/diagnostics/tasks'].post;
    expect(diag.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DiagnosticTaskInput' });
    expect(doc.components.schemas.DiagnosticTaskInput.properties.steps).toMatchObject({ type: 'integer', maximum: 50 });
  });

  it('documents parameters, headers, error envelopes and security per operation', () => {
    const list = doc.paths['/clusters'].get;
    expect(list.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(Object.keys(listQuerySchema.properties).map((n) => `query:${n}`));
    const update = doc.paths['/clusters/update/{id}'].patch;
    expect(update.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(['path:id', 'header:If-Match']);
    expect(Object.keys(update.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '412', '413', '503']));
    expect(update.responses['412']).toEqual({ $ref: '#/components/responses/E412' });
    expect(doc.components.responses.E412.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
    expect(doc.components.schemas.ErrorEnvelope.required).toEqual(['success', 'message', 'error']);
    expect(update.responses['200'].content['application/json'].schema.properties.success).toEqual({ const: true });
    const allocate = doc.paths['/blockActions/allocate'].post;
    expect(allocate.parameters.map((p: any) => p.name)).toContain('Idempotency-Key');
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it('takes who may call each route from the auth route table', () => {
    for (const [path, m] of [['/healthz', 'get'], ['/openapi.json', 'get'], ['/docs', 'get'], ['/docs/assets', 'get']] as const) {
      expect({ path, security: doc.paths[path][m].security, unauthorized: doc.paths[path][m].responses['401'] }).toEqual({ path, security: [], unauthorized: undefined });
    }
    const update = doc.paths['/clusters/update/{id}'].patch;
    expect(update.security).toBeUndefined(); // the document's bearer requirement
    expect(update['x-roles']).toEqual(['admin', 'operator']);
    expect(update.responses['401']).toEqual({ $ref: '#/components/responses/E401' });
    expect(doc.paths['/admin/queues'].get['x-roles']).toEqual(['admin']);
    expect(doc.paths['/admin/queues'].get.responses['403']).toBeDefined();
    expect(doc.paths['/metrics'].get['x-roles']).toContain('viewer');
    expect(doc.paths['/clusters/create'].post['x-internal']).toBe(true);
    expect(doc.paths['/policies'].post['x-internal']).toBe(false);
  });
});

describe('GET /docs', () => {
  it('serves the Swagger UI page, its initializer and its assets from the gateway (no CDN)', async () => {
    const page = await fetch(`${gw.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).not.toMatch(/<script>(?!<\/script>)|https?:\/\//); // no inline script, no absolute (third-party) URL
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui.css', '/docs/assets/swagger-ui-bundle.js', '/docs/swagger-initializer.js']));
    for (const ref of refs) {
      const asset = await fetch(`${gw.url}${ref}`);
      expect({ ref, status: asset.status }).toEqual({ ref, status: 200 });
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    const init = await (await fetch(`${gw.url}/docs/swagger-initializer.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    const missing = await fetch(`${gw.url}/docs/assets/nope.js`);
    expect(missing.status).toBe(404);
  });
});
