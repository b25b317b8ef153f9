/** The gateway's HTTP API as the CLI sees it: the success envelope unwrapped, errors as ApiError. */

export interface ClientOptions {
  url: string;
  token?: string;
  /** Per-request timeout. @defaultValue 30000 */
  timeoutMs?: number;
}

/** A request the gateway refused or could not serve; `body` is its error envelope when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
    readonly details?: unknown,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export class GatewayClient {
  readonly baseUrl: string;

  constructor(private readonly opts: ClientOptions) {
    this.baseUrl = opts.url.replace(/\/+$/, '');
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.opts.token ? { Authorization: `Bearer ${this.opts.token}` } : {}), ...extra };
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** Sends one request and returns `data` of the success envelope. */
  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers: this.headers(body === undefined ? headers : { 'Content-Type': 'application/json', ...headers }),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new ApiError(`cannot reach the gateway at ${this.baseUrl}: ${cause ?? (err as Error).message}`, 0);
    }
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok || parsed?.success === false) {
      const e = parsed?.error;
      throw new ApiError(e?.message ?? `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status, e?.code, e?.details, parsed);
    }
    return (parsed && typeof parsed === 'object' && 'data' in parsed ? parsed.data : parsed) as T;
  }
}
