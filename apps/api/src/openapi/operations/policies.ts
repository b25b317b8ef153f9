import { decisionListQuerySchema, listQuerySchema, policyEvalSchema, policyRegistrationSchema, scopeQuerySchema } from '@ccg/contracts';
import type { OperationSpec } from '../spec.js';
import { actionMapUpdateSchema, page } from '../schemas.js';

const tags = ['policies'];
const uri = { uri: 'the rule URI (`name:version`)' };

export const policyOperations: OperationSpec[] = [
  { method: 'post', path: '/policies', summary: 'Register a pre-check rule (same URI with other code: 409)', tags, body: policyRegistrationSchema, errors: [409] },
  { method: 'get', path: '/policies', summary: 'List rules (built-ins first)', tags, query: listQuerySchema, data: page({ type: 'object' }) },
  { method: 'get', path: '/policies/:uri', summary: 'A rule with its code', tags, pathParams: uri, errors: [404] },
  { method: 'delete', path: '/policies/:uri', summary: 'Delete a rule (409 while the map uses it)', tags, pathParams: uri, errors: [404, 409] },
  { method: 'post', path: '/policies/:uri/eval', summary: 'Try a rule on an input (scratch context, nothing stored)', tags, pathParams: uri, body: policyEvalSchema, errors: [404] },
  { method: 'get', path: '/pre-check-policies', summary: 'The effective pre-check map with each entry\'s source', tags, query: scopeQuerySchema },
  { method: 'get', path: '/pre-check-policies/get', summary: 'The effective pre-check map (the spec\'s path)', tags, query: scopeQuerySchema },
  { method: 'post', path: '/pre-check-policies/update', summary: 'Set (or, with "", remove) actions of the map', tags, query: scopeQuerySchema, body: actionMapUpdateSchema },
  { method: 'get', path: '/pre-check-policies/history', summary: 'Changes of the pre-check map', tags, query: scopeQuerySchema, data: page({ type: 'object' }) },
  { method: 'get', path: '/pre-check-policies/decisions', summary: 'The decision log: every evaluation', tags, query: decisionListQuerySchema, data: page({ type: 'object' }) },
];
