import type { Express } from 'express';

/** A route as Express serves it: a method and path, or (prefix) a mounted sub-app or static tree. */
export interface MountedRoute {
  method: string;
  path: string;
  prefix: boolean;
}

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  rawPath?: string | string[];
  handle?: { stack?: LayerLike[]; set?: unknown; handle?: unknown };
}

const join = (base: string, path: string): string => (base === '' ? path : path === '/' ? base : base + path);

/**
 * Walks an Express 5 app's router: every route of every mounted Router, and the mount point of
 * every sub-app or middleware mounted below `/` (bull-board, static docs) as a prefix.
 */
export function listRoutes(app: Express): MountedRoute[] {
  const out: MountedRoute[] = [];
  const walk = (stack: LayerLike[], base: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        const methods = Object.keys(layer.route.methods).map((m) => (m === '_all' ? 'ALL' : m.toUpperCase()));
        for (const p of paths) for (const method of methods) out.push({ method, path: join(base, p), prefix: false });
        continue;
      }
      const raw = Array.isArray(layer.rawPath) ? layer.rawPath : [layer.rawPath ?? '/'];
      const isApp = typeof layer.handle?.set === 'function';
      for (const p of raw) {
        if (typeof p !== 'string') continue;
        const path = join(base, p);
        if (layer.handle?.stack && !isApp) walk(layer.handle.stack, path === '/' ? base : path);
        else if (path !== '/' && path !== '') out.push({ method: 'ALL', path, prefix: true });
      }
    }
  };
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '');
  return out;
}
