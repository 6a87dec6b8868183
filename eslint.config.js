// ESLint flat config. The one architectural rule: src-main/core/** is pure TypeScript — it must not import
// `electron` (so it runs in tests and web mode) nor `onnxruntime-node` (ORT belongs to the engine worker).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

export default tseslint.config(
  {
    // .tmp-* are personal scratch files that never get committed.
    ignores: ['.tmp*', 'out/**', 'dist/**', 'node_modules/**', 'test-output/**', 'coverage/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // TypeScript checks names (including DOM/lib types like BlobPart); no-undef only gives false positives.
      'no-undef': 'off',
    },
  },
  {
    files: ['src-renderer/**/*.{ts,svelte}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['src-main/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'src-main/core must not depend on Electron (it runs in tests, CLI and web mode).' },
            { name: 'onnxruntime-node', message: 'ORT belongs to src-main/engine; core takes NoisePredictor/JacobianOperator interfaces.' },
          ],
          patterns: [
            { group: ['electron/*'], message: 'src-main/core must not depend on Electron.' },
            { group: ['onnxruntime-node/*', 'onnxruntime-common', 'onnxruntime-web'], message: 'ORT belongs to src-main/engine.' },
          ],
        },
      ],
    },
  },
);
