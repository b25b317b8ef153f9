import { InputError, type JsonObject } from '@ccg/contracts';
import type { ClusterFilter } from '@ccg/db';
import { parseClusterFilter } from './filter.js';

/** One entry of a block's `policies` map (aios-neighbours §2.5). */
export interface BlockPolicy extends JsonObject {
  policyRuleURI: string;
  parameters: JsonObject;
  settings: JsonObject;
}

/**
 * The one internal shape of a block, whichever way it arrived:
 *
 * - `id`: the block id (`id` of the Parser IR, `blockId` of the spec's sample).
 * - `policies`: `{<name>: {policyRuleURI, parameters, settings}}`. The IR's `policies` map,
 *   overridden per name by the spec's `policyRulesSpec[].values` (the Parser's merge rule, §6.4).
 * - `doc`: the block document sent to the controller (`dry_run` inputs, `create_block`
 *   block_data), given to allocator rules as `block_data`, and stored in the blocks registry.
 *   It is the Parser IR shape: the request with `id` and the merged `policies`; the sample's
 *   `blockId`, `policyRulesSpec` and `blockComponentURI` become `id`, `policies` and
 *   `componentUri` (+ `blockUri`), and the Parser's `api_mode` is dropped (the endpoint says it).
 */
export interface Block {
  id: string;
  doc: JsonObject;
  policies: Record<string, BlockPolicy>;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The Parser's rule is a DNS label; ids stored by other tools may be longer, so allow dotted names too. */
const BLOCK_ID = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

function bad(field: string, message: string): never {
  throw new InputError(`invalid body: ${field} ${message}`, { field });
}

function policyOf(value: unknown, field: string): BlockPolicy {
  if (!isObject(value)) bad(field, 'must be an object');
  const uri = value.policyRuleURI ?? '';
  if (typeof uri !== 'string') bad(`${field}.policyRuleURI`, 'must be a string');
  for (const k of ['parameters', 'settings'] as const) {
    if (value[k] !== undefined && value[k] !== null && !isObject(value[k])) bad(`${field}.${k}`, 'must be an object');
  }
  const { name: _name, ...rest } = value;
  return { ...rest, policyRuleURI: uri, parameters: (value.parameters as JsonObject | undefined) ?? {}, settings: (value.settings as JsonObject | undefined) ?? {} };
}

/** Normalises a request body (Parser IR or the spec's sample block) to a Block, or throws 400 naming the field. */
export function normaliseBlock(body: unknown): Block {
  if (!isObject(body)) bad('(body)', 'must be a block object');
  const id = body.id ?? body.blockId;
  const idField = body.id !== undefined ? 'id' : 'blockId';
  if (id === undefined) bad('id', 'is required (or blockId)');
  if (typeof id !== 'string' || !BLOCK_ID.test(id)) bad(idField, 'must be a block id (letters, digits, ".", "_", "-"; at most 253 characters)');
  if (body.id !== undefined && body.blockId !== undefined && body.id !== body.blockId) bad('blockId', 'differs from id');

  const policies: Record<string, BlockPolicy> = {};
  if (body.policies !== undefined) {
    if (!isObject(body.policies)) bad('policies', 'must be an object keyed by policy name');
    for (const [name, p] of Object.entries(body.policies)) policies[name] = policyOf(p, `policies.${name}`);
  }
  if (body.policyRulesSpec !== undefined) {
    if (!Array.isArray(body.policyRulesSpec)) bad('policyRulesSpec', 'must be an array');
    body.policyRulesSpec.forEach((entry, i) => {
      const values = isObject(entry) ? entry.values : undefined;
      if (!isObject(values)) bad(`policyRulesSpec.${i}.values`, 'must be an object');
      if (typeof values.name !== 'string' || values.name === '') bad(`policyRulesSpec.${i}.values.name`, 'must be a non-empty string');
      policies[values.name] = policyOf(values, `policyRulesSpec.${i}.values`);
    });
  }
  const filter = policies.clusterAllocator?.parameters.filter;
  if (filter !== undefined && !(isObject(filter) && Object.keys(filter).length === 0)) parseClusterFilter(filter, fieldOfPolicy(body, 'clusterAllocator', 'parameters.filter'));
  const gpus = policies.resourceAllocator?.parameters.gpus;
  if (gpus !== undefined && (typeof gpus !== 'number' || !Number.isInteger(gpus) || gpus < 0)) bad(fieldOfPolicy(body, 'resourceAllocator', 'parameters.gpus'), 'must be a non-negative integer');

  const { blockId: _b, policyRulesSpec: _p, blockComponentURI, api_mode: _m, ...rest } = body;
  const doc: JsonObject = { ...rest, id, policies };
  if (typeof blockComponentURI === 'string') {
    doc.componentUri ??= blockComponentURI;
    doc.blockUri ??= blockComponentURI;
  }
  return { id, doc, policies };
}

/** The request field a policy came from, so a 400 names what the caller wrote. */
function fieldOfPolicy(body: JsonObject, name: string, sub: string): string {
  if (Array.isArray(body.policyRulesSpec)) {
    const i = body.policyRulesSpec.findIndex((e) => isObject(e) && isObject(e.values) && e.values.name === name);
    if (i >= 0) return `policyRulesSpec.${i}.values.${sub}`;
  }
  return `policies.${name}.${sub}`;
}

/** The block's validated filter (`policies.clusterAllocator.parameters.filter`); undefined when absent or `{}` (every cluster). */
export function filterOf(block: Block): ClusterFilter | undefined {
  const raw = block.policies.clusterAllocator?.parameters.filter;
  if (raw === undefined || (isObject(raw) && Object.keys(raw).length === 0)) return undefined;
  return parseClusterFilter(raw, 'policies.clusterAllocator.parameters.filter');
}

/** GPUs the block needs on one node: `policies.resourceAllocator.parameters.gpus` (default 0). */
export function gpusNeeded(block: Block): number {
  return (block.policies.resourceAllocator?.parameters.gpus as number | undefined) ?? 0;
}
