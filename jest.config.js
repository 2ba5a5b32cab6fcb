/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] },
  // Tests share one embedded stack (started by scripts/test.ts); two workers fit a 2-core machine.
  maxWorkers: 2,
  testTimeout: 60_000,
};
