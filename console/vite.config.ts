import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The operator console: built into ../dist/console and served by the service at /console/ under
 * the CSP `default-src 'self'; frame-ancestors 'none'` — so no inline script (no module-preload
 * polyfill), no inline style, nothing from another origin.
 * `npx vite` (dev) proxies /v1 to DLR_DEV_API (default http://127.0.0.1:18090).
 */
export default defineConfig({
  root,
  base: '/console/',
  publicDir: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: { '/v1': { target: process.env.DLR_DEV_API ?? 'http://127.0.0.1:18090', changeOrigin: false } },
  },
});
