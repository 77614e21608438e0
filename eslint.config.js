// Lint rules: typescript-eslint's recommended set, plus the few that catch what review keeps missing.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.crossfade/', '.serverless/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // A focused or skipped test hides the rest of the suite.
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only' }, { object: 'describe', property: 'only' }, { object: 'test', property: 'only' },
        { object: 'it', property: 'skip' }, { object: 'describe', property: 'skip' }, { object: 'test', property: 'skip' },
      ],
    },
  },
);
