import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import paths that reach into src/api from elsewhere in src. */
const API_IMPORTS = ['**/api', '**/api/*', '**/api/**'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        console: 'readonly',
        process: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read loosely-typed JSON answers.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Layers point downwards: the API wires the domain together, so nothing below imports from it
    // (src/service is the entry point that runs the API and a worker in one process).
    files: ['src/**/*.ts'],
    ignores: ['src/api/**', 'src/service/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: API_IMPORTS, message: 'Only src/api imports from src/api.' }] },
      ],
    },
  },
  {
    // Workflow code is replayed deterministically inside Temporal's sandbox: no I/O here.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: API_IMPORTS, message: 'Only src/api imports from src/api.' },
            {
              group: ['node:*', 'fs', 'http', 'https', 'net', 'dns', 'crypto', 'child_process'],
              message: 'No Node built-ins in workflow code.',
            },
            {
              group: [
                'mongoose',
                'nodemailer',
                'express',
                '../db/*',
                '../activities/*',
                '../delivery/*',
                '../events/*',
                '../mail/*',
                '../templates/*',
              ],
              message: 'Workflows do I/O only through activities.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
