import { createHash } from 'node:crypto';
import {
  ConflictError,
  InputError,
  NotFoundError,
  policyRegistrationSchema,
  validate,
  type JsonObject,
} from '@ccg/contracts';
import type { PageRequest, PolicyRepository, PolicyRow } from '@ccg/db';
import { BUILTIN_RULES, builtinRule } from './builtins.js';
import type { PolicyRule, RuntimeName } from './runtime.js';

export interface PolicyRegistration {
  uri: string;
  runtime: RuntimeName;
  code?: string;
  archive_base64?: string;
  remote?: { url: string; executor_id: string; policy_rule_uri?: string };
  settings?: JsonObject;
  parameters?: JsonObject;
  description?: string;
}

export interface PolicyView {
  uri: string;
  runtime: RuntimeName;
  code_sha256: string;
  packaging: string;
  description: string | null;
  settings: JsonObject;
  parameters: JsonObject;
  builtin: boolean;
  created_at: string | null;
  code?: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function rowToRule(row: PolicyRow): PolicyRule {
  return { uri: row.uri, runtime: row.runtime as RuntimeName, code: row.code, sha256: row.code_sha256, settings: row.settings, parameters: row.parameters };
}

export function toPolicyView(row: PolicyRow, withCode = false): PolicyView {
  return {
    uri: row.uri,
    runtime: row.runtime as RuntimeName,
    code_sha256: row.code_sha256,
    packaging: row.packaging,
    description: row.description,
    settings: row.settings,
    parameters: row.parameters,
    builtin: false,
    created_at: row.created_at.toISOString(),
    ...(withCode ? { code: row.code } : {}),
  };
}

function builtinView(uri: string, withCode = false): PolicyView | undefined {
  const b = builtinRule(uri);
  if (!b) return undefined;
  return { uri: b.uri, runtime: 'js', code_sha256: b.sha256, packaging: 'builtin', description: b.description, settings: {}, parameters: {}, builtin: true, created_at: null, ...(withCode ? { code: b.code } : {}) };
}

export interface ArchiveExtractor {
  extractArchive(archive: Buffer): Promise<{ code: string; requirements: string | null }>;
}

/** The gateway's own registry of policy rules; a URI's code is immutable once registered. */
export class PolicyRegistry {
  private readonly cache = new Map<string, PolicyRule>();

  constructor(
    private readonly repo: PolicyRepository,
    private readonly extractor: ArchiveExtractor,
    private readonly usedByMap: (uri: string) => Promise<boolean>,
    private readonly removed: (uri: string) => Promise<void> = async () => undefined,
    /** The AIOS policies system, asked for URIs not registered here (POLICY_DB_URL). */
    private readonly aios?: { fetch(uri: string): Promise<PolicyRule | undefined> },
  ) {}

  /** Turns the request into the stored code: source text, an AIOS archive's function.py, or remote settings. */
  private async codeOf(reg: PolicyRegistration): Promise<{ code: string; packaging: string }> {
    const given = [reg.code, reg.archive_base64, reg.remote].filter((x) => x !== undefined).length;
    if (given !== 1) throw new InputError('invalid body: give exactly one of code, archive_base64 (python) or remote (remote)', { field: 'code' });
    if (reg.runtime === 'remote') {
      if (!reg.remote) throw new InputError('invalid body: a remote rule needs remote: {url, executor_id}', { field: 'remote' });
      return { code: JSON.stringify({ url: reg.remote.url.replace(/\/+$/, ''), executor_id: reg.remote.executor_id, policy_rule_uri: reg.remote.policy_rule_uri ?? reg.uri }), packaging: 'remote' };
    }
    if (reg.remote) throw new InputError(`invalid body: remote is only for runtime remote`, { field: 'remote' });
    if (reg.archive_base64 !== undefined) {
      if (reg.runtime !== 'python') throw new InputError('invalid body: archive_base64 is only for python rules (the AIOS packaging)', { field: 'archive_base64' });
      const archive = Buffer.from(reg.archive_base64, 'base64');
      try {
        return { code: (await this.extractor.extractArchive(archive)).code, packaging: 'archive' };
      } catch (err) {
        throw new InputError(`invalid body: archive_base64 is not an AIOS policy archive: ${(err as Error).message}`, { field: 'archive_base64' });
      }
    }
    return { code: reg.code!, packaging: 'source' };
  }

  async register(body: unknown, actor: string | null): Promise<{ policy: PolicyView; created: boolean }> {
    const reg = validate<PolicyRegistration>(policyRegistrationSchema, body, 'body');
    if (builtinRule(reg.uri)) throw new ConflictError(`${reg.uri} is a built-in rule`, { field: 'uri' }, 'POLICY_BUILTIN');
    const { code, packaging } = await this.codeOf(reg);
    const { row, created } = await this.repo.insert({
      uri: reg.uri,
      runtime: reg.runtime,
      code,
      code_sha256: sha256(code),
      packaging,
      description: reg.description ?? null,
      settings: reg.settings ?? {},
      parameters: reg.parameters ?? {},
      actor,
    });
    return { policy: toPolicyView(row), created };
  }

  /**
   * The rule behind a URI: built-ins, then this registry, then the AIOS policies system when one
   * is configured; undefined when none has it (an unreachable policies system throws).
   */
  async resolve(uri: string): Promise<PolicyRule | undefined> {
    const b = builtinRule(uri);
    if (b) return b;
    const cached = this.cache.get(uri);
    if (cached) return cached;
    const row = await this.repo.find(uri);
    const rule = row ? rowToRule(row) : await this.aios?.fetch(uri);
    if (rule) this.cache.set(uri, rule);
    return rule;
  }

  async get(uri: string): Promise<PolicyView> {
    const b = builtinView(uri, true);
    if (b) return b;
    const row = await this.repo.find(uri);
    if (!row) throw new NotFoundError(`policy ${uri} is not registered`, { uri });
    return toPolicyView(row, true);
  }

  /** Built-ins lead the first page; registered rules follow in URI order. */
  async list(page: PageRequest): Promise<{ items: PolicyView[]; next_cursor: string | null }> {
    const p = await this.repo.list(page);
    const builtins = page.cursor ? [] : BUILTIN_RULES.map((b) => builtinView(b.uri)!);
    return { items: [...builtins, ...p.items.map((r) => toPolicyView(r))], next_cursor: p.next_cursor };
  }

  async delete(uri: string): Promise<void> {
    if (builtinRule(uri)) throw new ConflictError(`${uri} is a built-in rule and cannot be deleted`, { uri }, 'POLICY_BUILTIN');
    if (await this.usedByMap(uri)) throw new ConflictError(`policy ${uri} is used by the pre-check action map; remove it from the map first`, { uri }, 'POLICY_IN_USE');
    if (!(await this.repo.delete(uri))) throw new NotFoundError(`policy ${uri} is not registered`, { uri });
    this.cache.delete(uri);
    await this.removed(uri);
  }

  forget(uri?: string): void {
    if (uri) this.cache.delete(uri);
    else this.cache.clear();
  }
}
