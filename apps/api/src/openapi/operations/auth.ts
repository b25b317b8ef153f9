import { apiKeyCreateSchema, apiKeyListQuerySchema } from '@ccg/contracts';
import type { OperationSpec } from '../spec.js';
import { page } from '../schemas.js';

const tags = ['auth'];

const keyView = {
  type: 'object',
  required: ['id', 'name', 'role'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    token_prefix: { type: 'string', description: 'the first characters of the token, to recognise it' },
    source: { type: 'string' },
    created_by: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
    revoked_at: { type: ['string', 'null'], format: 'date-time' },
    revoked_by: { type: ['string', 'null'] },
  },
};

export const authOperations: OperationSpec[] = [
  {
    method: 'post',
    path: '/auth/keys',
    summary: 'Create an API key (answers 201; the token is shown only in this answer)',
    tags,
    body: apiKeyCreateSchema,
    data: { allOf: [keyView, { type: 'object', required: ['token'], properties: { token: { type: 'string' } } }] },
    status: 201,
    errors: [409],
  },
  { method: 'get', path: '/auth/keys', summary: 'List API keys (never their tokens)', tags, query: apiKeyListQuerySchema, data: page(keyView) },
  { method: 'delete', path: '/auth/keys/:id', summary: 'Revoke an API key (refused at once on every replica)', tags, pathParams: { id: 'the key id' }, data: keyView, errors: [404] },
  {
    method: 'get',
    path: '/auth/whoami',
    summary: 'The calling key: id, name, role and the actor it is recorded as',
    tags,
    data: { type: 'object', properties: { key_id: { type: ['string', 'null'] }, name: { type: ['string', 'null'] }, role: { type: ['string', 'null'] }, actor: { type: ['string', 'null'] } } },
  },
];
