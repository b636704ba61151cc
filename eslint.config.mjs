// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // dist/ is built, console/ has its own tooling, fixtures/ are captured payloads; the rest is what .gitignore lists.
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'console/', 'fixtures/'] },

  // TypeScript: src/ and test/ (what tsconfig.json includes), with type information.
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked, ...tseslint.configs.stylisticTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name` marks a parameter an interface requires (express's error handler, a migration's dialect); `{ a: _, ...rest }` drops a key.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `||` on strings is deliberate: an empty environment variable or query parameter means "not set".
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read HTTP answers through supertest, whose `res.body` is `any`, and build expectations with jest's
      // asymmetric matchers (`expect.any(String)`), which return `any`: the expect() around them is the check.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },

  // Plain JavaScript (bench/, scripts/, bin/, test helpers and tool configs): CommonJS on Node, no type information.
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
  },

  // Last: turns off the rules that formatting (Prettier) decides.
  prettier,
);
