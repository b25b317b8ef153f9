export * from './schema.js';
export * from './connection.js';
export * from './migrate.js';
export * from './embedded.js';
export * from './pagination.js';
export * from './errors.js';
export { ClusterRepository } from './repositories/clusters.js';
export { BlockRepository, type BlockFilter } from './repositories/blocks.js';
export { TaskRepository, type NewTask, type TaskFilter, type TaskWithSteps } from './repositories/tasks.js';
