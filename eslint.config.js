// ESLint flat config, including the import boundaries of the architecture (DEVELOPERS.md "Layout"): each area
// gets one no-restricted-imports rule built from the list of what it may not reach, so breaking a boundary fails
// `npm run lint` (and so `npm test`).
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
  ...importBoundaries(),
);

/**
 * The boundaries. ESLint replaces (does not merge) a rule's options when several config objects match a file, so
 * every area lists all of its restrictions here, built from the shared pieces below.
 */
function importBoundaries() {
  const ort = [
    { name: 'onnxruntime-node', message: 'Only src-main/engine/worker/** creates ORT sessions (engine/worker/sessions.ts).' },
  ];
  const ortPatterns = [{ group: ['onnxruntime-node/*', 'onnxruntime-common', 'onnxruntime-web'], message: 'ORT belongs to src-main/engine/worker.' }];
  const electron = [{ name: 'electron', message: 'Only src-main/electron/** may use Electron (the engine, CLI and web mode run without it).' }];
  const electronPatterns = [{ group: ['electron/*'], message: 'Only src-main/electron/** may use Electron.' }];
  const nodeBuiltins = [
    {
      group: ['node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'worker_threads', 'url', 'util', 'stream', 'http', 'https', 'net'],
      message: 'No Node modules here: this code runs in the renderer (browser) too.',
    },
  ];
  const folder = (names, message) => ({ group: names.flatMap((n) => [`**/${n}`, `**/${n}/**`]), message });
  const upward = (area, message) => folder([`src-main/${area}`, `../${area}`, `../../${area}`, `../../../${area}`], message);
  const rule = (paths, patterns) => ({ '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }] });
  return [
    {
      // Outside the engine worker and the electron shell: neither ORT nor Electron.
      files: ['src-main/**/*.ts'],
      ignores: ['src-main/engine/worker/**', 'src-main/electron/**'],
      rules: rule([...ort, ...electron], [...ortPatterns, ...electronPatterns]),
    },
    {
      files: ['src-main/engine/worker/**/*.ts'],
      rules: rule(electron, electronPatterns),
    },
    {
      files: ['src-main/electron/**/*.ts'],
      rules: rule(ort, [...ortPatterns, upward('engine/worker', 'The shell talks to the engine through engine/host only.'), upward('engine/jobs', 'The shell talks to the engine through engine/host only.')]),
    },
    {
      // The host side of the engine runs in the main process: it never imports a job or the worker's modules
      // (types excepted), so onnxruntime-node never loads there.
      files: ['src-main/engine/host/**/*.ts', 'src-main/app/**/*.ts', 'src-main/server/**/*.ts'],
      rules: rule(
        [...ort, ...electron],
        [
          ...ortPatterns,
          ...electronPatterns,
          { ...upward('worker', 'Host-side code must not load the worker (and with it ORT).'), allowTypeImports: true },
          { ...upward('engine/worker', 'Host-side code must not load the worker (and with it ORT).'), allowTypeImports: true },
          { ...upward('jobs', 'Host-side code must not load the jobs (and with them ORT).'), allowTypeImports: true },
          { ...upward('engine/jobs', 'Host-side code must not load the jobs (and with them ORT).'), allowTypeImports: true },
          { ...upward('engine/run-in-process', 'In-process jobs are for the CLI and bench only.'), allowTypeImports: true },
        ],
      ),
    },
    {
      // core: pure maths and formats, below everything else.
      files: ['src-main/core/**/*.ts'],
      rules: rule(
        [...ort, ...electron],
        [...ortPatterns, ...electronPatterns, folder(['engine', 'app', 'electron', 'server', 'cli', 'shared'].map((a) => `src-main/${a}`), 'core imports only core.'), upward('engine', 'core imports only core.'), upward('app', 'core imports only core.'), upward('shared', 'core imports only core.')],
      ),
    },
    {
      // shared: the API contract, loaded by the renderer too.
      files: ['src-main/shared/**/*.ts'],
      rules: rule(
        [...ort, ...electron],
        [...ortPatterns, ...electronPatterns, ...nodeBuiltins, upward('engine', 'shared/ is the contract; it imports only shared/ and pure core modules.'), upward('app', 'shared/ imports only shared/ and pure core.'), upward('electron', 'shared/ imports only shared/ and pure core.'), upward('server', 'shared/ imports only shared/ and pure core.'), upward('cli', 'shared/ imports only shared/ and pure core.')],
      ),
    },
    {
      // The renderer imports only src-main/shared (never core, engine or Node).
      files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte'],
      rules: rule(
        [...ort, ...electron],
        [
          ...ortPatterns,
          ...electronPatterns,
          ...nodeBuiltins,
          { group: ['**/src-main/**', '!**/src-main/shared', '!**/src-main/shared/**'], message: 'The renderer imports only src-main/shared/ (re-export what it needs there).' },
        ],
      ),
    },
  ];
}
