/**
 * Request bodies of the node routes (spec §8) and the membership proxies (original gateway §1.7).
 * The node itself is `nodeSchema` (schemas.ts), the spec's sample node_data.
 */
import { nodeSchema } from './schemas.js';

/** POST /join-node/:clusterId: `{node_data, mode?, custom_ip?}` as the Go membership-client sends it. */
export const joinNodeSchema = {
  type: 'object',
  required: ['node_data'],
  properties: {
    node_data: nodeSchema,
    /** The membership server's join modes: `local_network` (default), or a custom / public IP. */
    mode: { type: 'string', maxLength: 100 },
    /** Go clients send `""` when unset; an empty value is treated as absent. */
    custom_ip: { type: ['string', 'null'], maxLength: 255 },
  },
  additionalProperties: false,
} as const;

/** POST /pre-checks/remove-node/:clusterId and POST /remove-node/:clusterId: `{node_id}`. */
export const removeNodeBodySchema = {
  type: 'object',
  required: ['node_id'],
  properties: { node_id: { type: 'string', minLength: 1, maxLength: 253 } },
  additionalProperties: false,
} as const;
