import type { Express } from 'express';

/** A route the app serves: a method and Express pattern, or a sub-application mounted under a prefix. */
export type WalkedRoute = { method: string; path: string } | { mount: string };

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[]; name?: string };
  rawPath?: string | string[];
}

/** A mounted Express app (e.g. bull-board) or express.static: answers requests under its prefix. */
const isMountedApp = (layer: Layer): boolean => layer.handle?.name === 'mounted_app' || layer.handle?.name === 'serveStatic';

/**
 * Every route of an Express 5 app, read from its router stack: routes (of the app and of routers
 * it uses, under their prefixes) give method + path; an Express app or express.static mounted
 * under a prefix is one mount. Plain middleware (`app.use(fn)`, `app.use('/x', fn)`) is not a route.
 */
export function walkRoutes(app: Express): WalkedRoute[] {
  const root = (app as unknown as { router: { stack: Layer[] } }).router;
  const out: WalkedRoute[] = [];
  const visit = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') out.push({ method: m, path: prefix + p });
        }
        continue;
      }
      const at = typeof layer.rawPath === 'string' ? layer.rawPath.replace(/\/+$/, '') : '';
      if (layer.handle?.stack) visit(layer.handle.stack, prefix + at);
      else if (at && isMountedApp(layer)) out.push({ mount: prefix + at });
    }
  };
  visit(root.stack, '');
  return out;
}
