import fs from 'node:fs';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import { AppError, NotFound } from '../../errors';
import { ROOT } from '../../paths';

/** Where `npm run build` puts the console (console/vite.config.ts). */
export const CONSOLE_DIR = path.join(ROOT, 'dist', 'console');

/**
 * What the console's pages may do: scripts, styles, images and API calls from this origin only (no
 * inline script or style, so a provider's text that reached the page as markup could run nothing),
 * never framed.
 */
const CONSOLE_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

function secure(res: Response): void {
  res.set({
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
}

/**
 * The support console at /console/ (console/, issue #15): its built files, and index.html for every
 * other path under it (the console routes in the browser: /console/messages/:provider/:message_id
 * is a deep link). No token is needed to load it; every API call it makes carries one.
 */
export function consoleRouter(): Router {
  const router = Router();
  const index = path.join(CONSOLE_DIR, 'index.html');
  // (express matches `/console` with or without its slash: redirect only the bare one)
  router.get('/console', (req, res, next) => {
    if (req.originalUrl.split('?')[0] === '/console') res.redirect(301, '/console/');
    else next();
  });
  router.use(
    '/console',
    (_req, res, next) => {
      secure(res);
      next();
    },
    // hashed names (assets/*-[hash].js): cached for good; index.html never
    express.static(CONSOLE_DIR, {
      index: false,
      fallthrough: true,
      immutable: true,
      maxAge: '365d',
      redirect: false,
      // asked for by name, the page is still the page: after an upgrade it must name the new bundle
      setHeaders: (res, file) => {
        if (path.basename(file) === 'index.html') res.setHeader('cache-control', 'no-cache');
      },
    }),
  );
  // a built file that is not there (a page from an older build asking for its bundle) is a 404, not the page
  router.get('/console/assets/{*path}', (req) => {
    throw new NotFound('console file', req.path, 'reload /console/ (an upgrade renamed the bundle)');
  });
  router.get('/console/{*path}', (_req, res) => {
    if (!fs.existsSync(index)) {
      const detail = 'the console is not built: run `npm run build` (it builds console/ into dist/console)';
      throw new AppError(404, 'not_found', detail, detail);
    }
    res.set('cache-control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
