/**
 * API keys and roles (docs/AUTH.md). Which role may call which route is the route table in
 * apps/api/src/auth/route-roles.ts.
 */

/**
 * admin: everything. operator: cluster, node, block, scaling and management operations, task
 * control, and every read. parser: what the AIOS Parser calls (cluster creation, node add, block
 * actions, `/blocks/mgmt`) and the reads it needs. reporter: a cluster's metrics writer pushing
 * metrics. viewer: reads.
 */
export const ROLES = ['admin', 'operator', 'parser', 'reporter', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** A key's name shows up as its actor in task, decision and history logs. */
export const API_KEY_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$';

/** POST /auth/keys */
export const apiKeyCreateSchema = {
  type: 'object',
  required: ['name', 'role'],
  properties: {
    name: { type: 'string', pattern: API_KEY_NAME_PATTERN, description: 'unique among active keys; letters, digits, . _ @ -' },
    role: { enum: [...ROLES] },
  },
  additionalProperties: false,
} as const;

/** GET /auth/keys */
export const apiKeyListQuerySchema = {
  type: 'object',
  properties: {
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    cursor: { type: 'string', maxLength: 1024 },
    include_revoked: { enum: ['true', 'false'] },
  },
  additionalProperties: false,
} as const;
