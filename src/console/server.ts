/**
 * Serves the web console under /console: the built bundle (see build.ts) and a small JSON of the
 * settings the browser needs. The console calls the same /v3 API with the user's key; this
 * router has no API of its own and no authentication (the files hold no data).
 */
import path from 'node:path';
import express, { Router } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { CONSOLE_BUILD_DIR, ensureConsoleBuilt } from './build';

export const CONSOLE_PATH = '/console';

export function consoleRoutes(config: Config, logger: Logger): Router {
  const router = Router();
  let buildError: string | null = null;
  let dir = CONSOLE_BUILD_DIR;
  try {
    const result = ensureConsoleBuilt();
    dir = result.dir;
    if (result.built) logger.info('web console built', { ms: result.ms, dir });
  } catch (err) {
    // The API still serves; the console page says what went wrong instead.
    buildError = err instanceof Error ? err.message : String(err);
    logger.error('web console build failed', { error: buildError });
  }

  router.get(`${CONSOLE_PATH}/config.json`, (_req, res) => {
    res.set('cache-control', 'no-store');
    res.json({ temporal_ui_url: config.TEMPORAL_UI_URL, temporal_namespace: config.TEMPORAL_NAMESPACE });
  });
  router.use(CONSOLE_PATH, (req, res, next) => {
    if (!buildError) return next();
    res.status(503).type('text/plain').send(`The web console could not be built: ${buildError}`);
  });
  router.use(
    CONSOLE_PATH,
    express.static(dir, {
      index: false,
      // /console is the page itself, not a redirect to /console/.
      redirect: false,
      setHeaders: (res) => res.set('cache-control', 'no-cache'),
    }),
  );
  // Every other path under /console is a screen of the single-page app: the same page.
  router.get([CONSOLE_PATH, `${CONSOLE_PATH}/{*rest}`], (_req, res) => {
    res.set('cache-control', 'no-cache');
    res.set('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    res.sendFile(path.join(dir, 'index.html'));
  });
  return router;
}
