import { Agent, request as httpRequest } from 'node:http';

/** A request exactly as it goes on the wire: the path is not normalised, the body is raw. */
export interface RawRequest {
  method: string;
  /** Sent verbatim (no URL normalisation: `..`, `%00` and broken escapes reach the gateway). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  json: any;
}

/**
 * A keep-alive HTTP client for fuzzing an in-process gateway. `fetch` would normalise paths and
 * refuse some headers, so this uses node:http directly.
 */
export class RawClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    /** Headers every request carries (credentials), overridable per request. */
    private readonly baseHeaders: Record<string, string> = {},
  ) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
  }

  send(req: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
      // Header names are case-insensitive: a case's header replaces the base one of any spelling.
      const headers: Record<string, string | number> = {};
      for (const [k, v] of Object.entries({ ...this.baseHeaders })) headers[k.toLowerCase()] = v;
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
      if (body && req.chunked) headers['transfer-encoding'] = 'chunked';
      else if (body) headers['content-length'] = body.length;
      let settled = false;
      const r = httpRequest({ host: this.host, port: this.port, method: req.method, path: req.path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          settled = true;
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', (e) => !settled && reject(e));
      });
      r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms: ${req.method} ${req.path.slice(0, 200)}`)));
      // The gateway may answer (413, 431) and close before the whole body is written: only a
      // failure without any answer counts.
      r.on('error', (e) => {
        if (!settled) setTimeout(() => !settled && reject(e), 50);
      });
      if (body && req.chunked) {
        const half = Math.floor(body.length / 2);
        r.write(body.subarray(0, half));
        r.end(body.subarray(half));
      } else if (body) r.end(body);
      else r.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
