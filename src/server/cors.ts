import type { NextFunction, Request, Response } from 'express';
import { NONCE_HEADER, SENDER_HEADER, SIGNATURE_HEADER } from './request-auth.js';
import { SESSION_HEADER } from './wire.js';

/** Request headers a browser participant sends: the signed-request headers, the session, the body type. */
const ALLOWED_HEADERS = ['content-type', SENDER_HEADER, NONCE_HEADER, SIGNATURE_HEADER, SESSION_HEADER].join(', ');
/** Response headers a browser participant reads. */
const EXPOSED_HEADERS = ['x-fedveil-model-version', 'x-fedveil-model-hash', 'x-fedveil-coordinator-key', 'retry-after'].join(', ');

/** An origin as browsers send it: scheme://host[:port], no path. */
export function normalizeOrigin(origin: string): string {
  return new URL(origin).origin;
}

/**
 * CORS for the HTTP API when the participant page is hosted on another origin: requests from the
 * listed origins (exactly; never a wildcard) get `access-control-allow-origin` and preflights are
 * answered; every other origin gets no CORS headers, so its pages cannot read the answers. The
 * API's own authentication (signed requests) is unchanged.
 */
export function corsMiddleware(origins: readonly string[]): (req: Request, res: Response, next: NextFunction) => void {
  const allowed = new Set(origins.map(normalizeOrigin));
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !allowed.has(origin)) {
      next();
      return;
    }
    res.vary('origin');
    res.set('access-control-allow-origin', origin);
    res.set('access-control-expose-headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS') {
      res.set('access-control-allow-methods', 'GET, POST');
      res.set('access-control-allow-headers', ALLOWED_HEADERS);
      res.set('access-control-max-age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
