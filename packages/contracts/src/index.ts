export * from './errors.js';
export * from './validation.js';
export * from './schemas.js';
export * from './types.js';
export * from './policy-schemas.js';
export * from './node-schemas.js';
export * from './controller-schemas.js';
export * from './auth-schemas.js';
