/**
 * Enumerates the routes of the real Express app by walking its router stack (Express 5 / router
 * 2.x: a layer either holds a `route` with its path and methods, or a nested router mounted at
 * `rawPath`). Routes added later show up here without any change to the fuzz tests.
 */
export interface RouteInfo {
  method: string;
  /** Express path pattern, e.g. `/clusters/update/:id`. */
  path: string;
}

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  rawPath?: string | RegExp | Array<string | RegExp>;
  handle?: { stack?: LayerLike[]; set?: unknown };
}

function join(prefix: string, path: string): string {
  const p = `${prefix.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function walk(stack: LayerLike[], prefix: string, out: RouteInfo[]): void {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const path of paths) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') out.push({ method: method.toUpperCase(), path: join(prefix, String(path)) });
        }
      }
    } else {
      const raw = layer.rawPath;
      const mount = join(prefix, typeof raw === 'string' ? raw : '/');
      const isSubApp = typeof layer.handle?.set === 'function';
      if (layer.handle?.stack && !isSubApp) walk(layer.handle.stack, mount, out);
      // A sub-app or middleware mounted below `/` (bull-board, static assets) serves a whole tree:
      // it is fuzzed as `ALL <mount>` with GET requests under it.
      else if (mount !== '/') out.push({ method: 'ALL', path: mount });
    }
  }
}

export function listRoutes(app: { router: unknown }): RouteInfo[] {
  const out: RouteInfo[] = [];
  walk((app.router as { stack: LayerLike[] }).stack, '/', out);
  const seen = new Set<string>();
  return out.filter((r) => {
    const key = routeKey(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export const routeKey = (r: RouteInfo): string => `${r.method} ${r.path}`;

/** Names of the `:params` of a path pattern. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
}
