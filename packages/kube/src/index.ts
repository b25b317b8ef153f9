export * from './kubeconfig.js';
export * from './infra-service.js';
export * from './settings.js';
export * from './manifests.js';
export * from './client.js';
export * from './apply.js';
export * from './readiness.js';
export * from './teardown.js';
