export * from './services.js';
export * from './fixtures.js';
export * from './http.js';
export * from './gateway.js';
export * from './fake-cluster.js';
export * from './policies.js';
export * from './fake-kube/index.js';
export * from './queue-dump.js';
