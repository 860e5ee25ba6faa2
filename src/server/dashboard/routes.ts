import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express, Request, Response } from 'express';
import { HttpError } from '../http-errors.js';
import type { DashboardFeed } from './feed.js';

/**
 * Where `npm run build` writes the page (dist/dashboard). This module sits three folders below
 * the package root both as source (src/server/dashboard) and as build output (dist/server/dashboard).
 */
export const DEFAULT_DASHBOARD_ASSETS = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

/** The files of the page, by the name they are served under, with their content types. */
export const DASHBOARD_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'uPlot.min.css': 'text/css; charset=utf-8',
};

/**
 * The page's Content-Security-Policy: scripts and styles only from files this server serves (no
 * inline script, no eval), data only from this origin, nothing may frame it.
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Options of {@link registerDashboardRoutes}. */
export interface DashboardRoutesOptions {
  /** Folder holding the built page; default {@link DEFAULT_DASHBOARD_ASSETS}. */
  assetsDir?: string;
  /** Most event streams open at once; more are refused with 503 (default 64). */
  maxViewers?: number;
}

/**
 * The dashboard, read-only: the page at `/` and its files under `/dashboard/`, its live snapshot at
 * `GET /v1/dashboard` and the same snapshots pushed as Server-Sent Events at
 * `GET /v1/dashboard/events` (one `snapshot` event at once, then one per change).
 */
export function registerDashboardRoutes(app: Express, feed: DashboardFeed, opts: DashboardRoutesOptions = {}): void {
  const dir = opts.assetsDir ?? DEFAULT_DASHBOARD_ASSETS;
  const maxViewers = opts.maxViewers ?? 64;
  const serve = (name: string, res: Response): void => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      throw new HttpError('dashboard/not-built', `the dashboard's ${name} is not in ${dir}: build it with \`npm run build\``);
    }
    res
      .set('content-security-policy', DASHBOARD_CSP)
      .set('x-content-type-options', 'nosniff')
      .set('referrer-policy', 'no-referrer')
      .set('cache-control', 'no-cache')
      .type(DASHBOARD_FILES[name] as string)
      .sendFile(path);
  };
  app.get('/', (_req, res) => serve('index.html', res));
  app.get('/dashboard/:file', (req: Request, res: Response) => {
    const name = String(req.params.file);
    if (!Object.hasOwn(DASHBOARD_FILES, name)) throw new HttpError('request/not-found', `the dashboard has no file ${name}`);
    serve(name, res);
  });
  app.get('/v1/dashboard', (_req, res) => {
    res.set('cache-control', 'no-store').json(feed.snapshot());
  });
  app.get('/v1/dashboard/events', (req, res) => {
    if (feed.viewers >= maxViewers) throw new HttpError('dashboard/busy', `${maxViewers} dashboard streams are open already; try again later`);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const send = (s: unknown): void => {
      res.write(`event: snapshot\ndata: ${JSON.stringify(s)}\n\n`);
    };
    send(feed.snapshot());
    const stop = feed.subscribe(send);
    // A comment now and then keeps proxies from closing an idle stream.
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
    req.on('close', () => {
      stop();
      clearInterval(ping);
    });
  });
}
