/** The spec's ten pre-check actions, and vdag_controller (the gateway's vDAG controller proxy). */
export const PRECHECK_ACTIONS = [
  'add_node',
  'remove_node',
  'add_cluster',
  'remove_cluster',
  'add_block',
  'remove_block',
  'update_cluster',
  'scale_block',
  'block_mgmt',
  'cluster_mgmt',
  'vdag_controller',
  'create_cluster_infra',
  'remove_cluster_infra',
] as const;
export type PrecheckAction = (typeof PRECHECK_ACTIONS)[number];

/** `name:version-tag`: no whitespace, one colon separating name and version. */
export const POLICY_URI_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}:[A-Za-z0-9][A-Za-z0-9._+-]{0,100}$';

const jsonObject = { type: 'object' } as const;

/** One action's entry: a rule URI, or an object with options. */
export const actionEntrySchema = {
  oneOf: [
    { type: 'string', pattern: POLICY_URI_PATTERN },
    {
      type: 'object',
      required: ['policyRuleURI'],
      additionalProperties: false,
      properties: {
        policyRuleURI: { type: 'string', pattern: POLICY_URI_PATTERN },
        parameters: jsonObject,
        settings: jsonObject,
        mode: { enum: ['enforce', 'audit'] },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 60_000 },
        failurePolicy: { enum: ['closed', 'open'] },
      },
    },
  ],
} as const;

function buildActionMapSchema(allowRemoval: boolean) {
  const entry = allowRemoval ? { oneOf: [{ const: '' }, actionEntrySchema] } : actionEntrySchema;
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(PRECHECK_ACTIONS.map((a) => [a, entry])),
  } as const;
}

// Built once: `validate` caches compiled schemas by object identity, so a fresh object per call
// made ajv compile (and keep) a new validator on every map update.
const ACTION_MAP_SCHEMAS = { update: buildActionMapSchema(true), env: buildActionMapSchema(false) };

/** CLUSTER_CONTROLLER_GATEWAY_ACTIONS_MAP and the body of POST /pre-check-policies/update ("" removes). */
export function actionMapSchema(allowRemoval: boolean): ReturnType<typeof buildActionMapSchema> {
  return allowRemoval ? ACTION_MAP_SCHEMAS.update : ACTION_MAP_SCHEMAS.env;
}

export const policyRegistrationSchema = {
  type: 'object',
  required: ['uri', 'runtime'],
  additionalProperties: false,
  properties: {
    uri: { type: 'string', pattern: POLICY_URI_PATTERN },
    runtime: { enum: ['js', 'python', 'remote'] },
    code: { type: 'string', minLength: 1, maxLength: 1_000_000 },
    archive_base64: { type: 'string', minLength: 1, maxLength: 10_000_000 },
    remote: {
      type: 'object',
      required: ['url', 'executor_id'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        executor_id: { type: 'string', minLength: 1, maxLength: 200 },
        policy_rule_uri: { type: 'string', pattern: POLICY_URI_PATTERN },
      },
    },
    settings: jsonObject,
    parameters: jsonObject,
    description: { type: 'string', maxLength: 10_000 },
  },
} as const;

export const policyEvalSchema = {
  type: 'object',
  required: ['input'],
  additionalProperties: false,
  properties: {
    input: {},
    parameters: jsonObject,
    context: jsonObject,
    timeoutMs: { type: 'integer', minimum: 1, maximum: 60_000 },
  },
} as const;

export const decisionListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'string' },
    cursor: { type: 'string', maxLength: 1024 },
    action: { enum: [...PRECHECK_ACTIONS] },
    outcome: { enum: ['allowed', 'denied', 'error', 'timeout'] },
    rule_uri: { type: 'string', maxLength: 400 },
    cluster_id: { type: 'string', maxLength: 100 },
    task_id: { type: 'string', maxLength: 100 },
  },
} as const;

export const scopeQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { cluster_id: { type: 'string', minLength: 1, maxLength: 100 }, limit: { type: 'string' }, cursor: { type: 'string', maxLength: 1024 } },
} as const;
