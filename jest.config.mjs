// Jest, one project per tier (npm test runs them all, in the order of test/support/jest/sequencer.mjs;
// npm run test:<tier> one of them). Tests are TypeScript, run in ESM mode through ts-jest; the apps
// the e2e and fault tiers start run from dist/, as in production.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
// Tests load #domain & co from their TypeScript sources (package.json's `types` condition, which
// Jest does not apply by itself); relative imports are written with .js, as Node wants.
const moduleNameMapper = {
  ...Object.fromEntries(
    Object.entries(pkg.imports).map(([alias, { types }]) => [`^${alias}$`, `<rootDir>/${types.slice(2)}`]),
  ),
  '^(\\.{1,2}/.*)\\.js$': '$1',
  // node:assert/strict across Jest's VM contexts (test/support/jest/assert.ts says why).
  '^node:assert/strict$': '<rootDir>/test/support/jest/assert.ts',
};

const REQUIRED_ESM = ['content-disposition'];

// The tiers that use PostgreSQL and RabbitMQ: the run's own database and broker prefix.
const services = {
  globalSetup: '<rootDir>/test/support/jest/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/jest/global-teardown.mjs',
};

const tier = (name, options = {}) => ({
  displayName: name,
  rootDir: import.meta.dirname,
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.test.ts'],
  testEnvironment: 'node',
  // Each file's globals stay as they were left (Jest would otherwise warn when a timer a test
  // file left behind reads one after the file ended); the worker is recycled anyway.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper,
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.jest.json' }],
    // ESM-only packages that CommonJS ones require (@fastify/static: content-disposition): Jest on
    // Node 20 cannot require ESM, so they are compiled to CommonJS for it.
    [`/node_modules/(${REQUIRED_ESM.join('|')})/.+\\.js$`]: [
      'ts-jest',
      {
        useESM: true,
        tsconfig: { allowJs: true, isolatedModules: true, module: 'nodenext', target: 'es2022' },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${REQUIRED_ESM.join('|')})/)`],
  ...options,
});

export default {
  projects: [
    tier('unit'),
    tier('integration', services),
    tier('service', services),
    tier('api', services),
    tier('e2e', services),
    tier('faults', { ...services, setupFilesAfterEnv: ['<rootDir>/test/support/jest/faults-timeout.ts'] }),
  ],
  testSequencer: '<rootDir>/test/support/jest/sequencer.mjs',
  // As long as the slowest e2e test may take on a loaded machine; the fault tier sets its own.
  testTimeout: 300_000,
  // One test file at a time: the tiers share the run's database and start apps on two cores.
  // (npm run test:unit runs its files in parallel.) A worker process rather than Jest's own, recycled
  // when it has grown: each file loads Nest, TypeORM and the apps' modules again.
  maxWorkers: 1,
  workerIdleMemoryLimit: '1GB',
};
