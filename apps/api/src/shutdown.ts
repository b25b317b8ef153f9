import type { Server } from 'node:http';

/**
 * Stops an HTTP server gracefully: no new connections, idle keep-alive connections closed at
 * once (and again as requests finish), requests in flight allowed up to `drainMs`, then every
 * connection left is closed. Resolves when the server is closed.
 */
export async function drainServer(server: Server, drainMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  const force = setTimeout(() => server.closeAllConnections(), drainMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}
