export * from './clusters.js';
export * from './blocks.js';
export * from './gate.js';
export * from './dotted-path.js';
export * from './versioning.js';
