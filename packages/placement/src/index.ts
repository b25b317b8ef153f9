export * from './filter.js';
export * from './block.js';
export * from './pipeline.js';
export * from './allocation-tasks.js';
export * from './block-actions.js';
