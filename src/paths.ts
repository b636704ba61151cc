import path from 'node:path';

/** The package root, whether running from `src/` (tests) or `dist/` (built). */
export const ROOT = path.resolve(__dirname, '..');
export const SCHEMAS_DIR = path.join(ROOT, 'schemas');
