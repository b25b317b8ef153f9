import type { JsonObject } from '@ccg/contracts';
import { createHash } from 'node:crypto';
import type { ArchiveExtractor } from './registry.js';
import type { PolicyRule } from './runtime.js';

const MAX_ARCHIVE_BYTES = 10 * 1024 * 1024;

/**
 * Resolves rule URIs in the AIOS policies system (POLICY_DB_URL): `GET /policy/<uri>` answers
 * `{success, data: {code: <archive URL>, policy_settings, policy_parameters, ...}}`; the archive
 * is downloaded and its `code/function.py` becomes a Python rule. Archive locations must be
 * http(s) URLs: a local path would let the policies system make the gateway read its own files.
 */
export class AiosPolicySource {
  constructor(
    private readonly baseUrl: string,
    private readonly extractor: ArchiveExtractor,
    private readonly timeoutMs = 10_000,
  ) {}

  async fetch(uri: string): Promise<PolicyRule | undefined> {
    const res = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/policy/${uri}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (res.status === 404) return undefined;
    const body = (await res.json().catch(() => undefined)) as { success?: boolean; data?: JsonObject; message?: string } | undefined;
    if (!res.ok || !body) throw new Error(`policies system answered ${res.status} for ${uri}`);
    if (body.success === false || !body.data) return undefined; // its "Policy not found." comes as 200 + success:false
    const location = String(body.data.code ?? '');
    if (!/^https?:\/\//.test(location)) throw new Error(`policy ${uri} has code at "${location}", which is not an http(s) URL`);
    const archive = await this.download(location);
    const { code } = await this.extractor.extractArchive(archive);
    return {
      uri,
      runtime: 'python',
      code,
      sha256: createHash('sha256').update(code).digest('hex'),
      settings: (body.data.policy_settings as JsonObject) ?? {},
      parameters: (body.data.policy_parameters as JsonObject) ?? {},
    };
  }

  private async download(url: string): Promise<Buffer> {
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw new Error(`downloading ${url} answered ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_ARCHIVE_BYTES) throw new Error(`policy archive at ${url} is larger than ${MAX_ARCHIVE_BYTES} bytes`);
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > MAX_ARCHIVE_BYTES) throw new Error(`policy archive at ${url} is larger than ${MAX_ARCHIVE_BYTES} bytes`);
    return buf;
  }
}
