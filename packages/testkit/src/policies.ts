import type { JsonObject } from '@ccg/contracts';
import { sampleCluster } from './fixtures.js';
import type { TestGateway } from './gateway.js';

/** A rule that denies, returning the input dict it saw (its keys sorted, and the input) as its reason. */
export const RECORDING_RULE = `class AIOSv1PolicyRule {
  constructor(ruleId, settings, parameters) {}
  eval(parameters, inputData, context) {
    return { allowed: false, input_data: { keys: Object.keys(inputData).sort(), input: inputData } };
  }
}`;

export const ALLOW_ALL_RULE_URI = 'aiosv1.policies.builtin.allow-all:v1.0.0-stable';
export const DENY_RULE_URI = 'aiosv1.policies.builtin.deny-with-reason:v1.0.0-stable';

async function expectOk(what: string, res: { status: number; text: string }) {
  if (res.status !== 200) throw new Error(`${what} answered ${res.status}: ${res.text}`);
}

/** Registers a JS rule (throws unless 200). */
export async function registerJsRule(gw: TestGateway, uri: string, code: string): Promise<void> {
  await expectOk(`registering ${uri}`, await gw.request('POST', '/policies', { uri, runtime: 'js', code }));
}

/** POST /pre-check-policies/update (throws unless 200); returns the effective map. */
export async function setPrecheckMap(gw: TestGateway, body: object, clusterId?: string): Promise<JsonObject> {
  const res = await gw.request('POST', `/pre-check-policies/update${clusterId ? `?cluster_id=${clusterId}` : ''}`, body);
  await expectOk('updating the pre-check map', res);
  return res.body.data;
}

/** The spec's sample cluster whose services are at `urlMap` (a fake cluster's). */
export function sampleClusterAt(id: string, urlMap: object): JsonObject {
  const base = sampleCluster(id);
  return { ...base, config: { ...(base.config as JsonObject), urlMap: urlMap as JsonObject } };
}

/** Creates the spec's sample cluster pointing at `urlMap` (throws unless 200); returns the entry. */
export async function createClusterAt(gw: TestGateway, id: string, urlMap: object): Promise<JsonObject> {
  const res = await gw.request('POST', '/clusters/create', sampleClusterAt(id, urlMap));
  await expectOk(`creating cluster ${id}`, res);
  return res.body.data;
}
