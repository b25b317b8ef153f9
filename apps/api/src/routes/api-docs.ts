import express, { Router } from 'express';
import swaggerUiPath from 'swagger-ui-dist/absolute-path.js';
import { mountLabel } from '../observability/http-metrics.js';

/** The docs page: Swagger UI from swagger-ui-dist, no inline script, assets from this server. */
const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Cluster Controller Gateway API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/swagger-initializer.js"></script>
</body>
</html>
`;

const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout'
  });
});
`;

// Swagger UI sets inline styles and uses data: images; scripts come only from this origin.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** `GET /openapi.json` (the document, built once at start) and the `/docs` page with its assets. */
export function apiDocsRoutes(document: object): Router {
  const r = Router();
  const json = JSON.stringify(document);
  r.get('/openapi.json', (_req, res) => {
    res.type('application/json').set('Cache-Control', 'no-cache').send(json);
  });
  r.get('/docs', (_req, res) => {
    res.type('html').set('Content-Security-Policy', CSP).send(PAGE);
  });
  r.get('/docs/swagger-initializer.js', (_req, res) => {
    res.type('text/javascript').send(INITIALIZER);
  });
  r.use('/docs/assets', mountLabel('/docs/assets'), express.static(swaggerUiPath(), { index: false, maxAge: '1d' }));
  return r;
}
