import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express, Request, Response } from 'express';
import { HttpError } from './http-errors.js';

/**
 * Where `npm run build` writes the browser participant's page (dist/participant). This module sits
 * two folders below the package root both as source (src/server) and as build output (dist/server).
 */
export const DEFAULT_PARTICIPANT_ASSETS = fileURLToPath(new URL('../../dist/participant/', import.meta.url));

/** The files of the page, by the name they are served under, with their content types. */
export const PARTICIPANT_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'tfjs-backend-wasm.wasm': 'application/wasm',
  'tfjs-backend-wasm-simd.wasm': 'application/wasm',
  'tfjs-backend-wasm-threaded-simd.wasm': 'application/wasm',
};

/**
 * The page's Content-Security-Policy: scripts only from files this server serves (no inline
 * script, no eval; compiling the trainer's WebAssembly is allowed), requests only to this origin,
 * nothing may frame it.
 */
export const PARTICIPANT_CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Options of {@link registerParticipantPage}. */
export interface ParticipantPageOptions {
  /** Folder holding the built page; default {@link DEFAULT_PARTICIPANT_ASSETS}. */
  assetsDir?: string;
}

/**
 * The browser participant's page: `GET /participant/` and its files under `/participant/`
 * (`/participant` redirects there, so the page's relative asset paths resolve). Static: the page
 * talks to the coordinator through the same signed API as `fedveil client`.
 */
export function registerParticipantPage(app: Express, opts: ParticipantPageOptions = {}): void {
  const dir = opts.assetsDir ?? DEFAULT_PARTICIPANT_ASSETS;
  const serve = (name: string, res: Response): void => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      throw new HttpError('participant-page/not-built', `the participant page's ${name} is not in ${dir}: build it with \`npm run build\``);
    }
    res
      .set('content-security-policy', PARTICIPANT_CSP)
      .set('x-content-type-options', 'nosniff')
      .set('referrer-policy', 'no-referrer')
      .set('cache-control', 'no-cache')
      .type(PARTICIPANT_FILES[name] as string)
      .sendFile(path);
  };
  // Express matches '/participant' with or without its trailing slash; only the slashed URL
  // resolves the page's relative asset paths.
  app.get('/participant', (req, res) => {
    if (!(req.originalUrl.split('?')[0] as string).endsWith('/')) res.redirect(301, '/participant/');
    else serve('index.html', res);
  });
  app.get('/participant/:file', (req: Request, res: Response) => {
    const name = String(req.params.file);
    if (!Object.hasOwn(PARTICIPANT_FILES, name)) throw new HttpError('request/not-found', `the participant page has no file ${name}`);
    serve(name, res);
  });
}
