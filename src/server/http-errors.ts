import type { ErrorRequestHandler } from 'express';
import { FedveilError } from '../secagg/util/errors.js';

/**
 * Every rule a request can break, with its HTTP status. The codes are part of the wire interface:
 * clients and tests match on them.
 */
export const HTTP_ERRORS = {
  'auth/missing-headers': 401,
  'auth/malformed-headers': 400,
  'auth/unknown-sender': 403,
  'auth/bad-signature': 401,
  'auth/replayed-nonce': 409,
  'auth/not-in-cohort': 403,
  'auth/sender-mismatch': 403,
  'join/identity-in-use': 409,
  'join/unknown-session': 409,
  'join/stale-request': 400,
  'request/malformed-json': 400,
  'request/invalid-body': 422,
  'request/body-too-large': 413,
  'request/upload-timeout': 408,
  'request/busy': 503,
  'request/unsupported-media-type': 415,
  'request/bad-encoding': 400,
  'request/bad-query': 400,
  'request/not-found': 404,
  'round/wrong-round': 409,
  'round/wrong-phase': 409,
  'round/not-running': 409,
  'round/duplicate-submission': 409,
  'round/rejected': 422,
  'vector/wrong-length': 422,
  'vector/hash-mismatch': 422,
  'coordinator/stale-update': 409,
  'coordinator/not-async': 409,
  'coordinator/unpublished-version': 422,
  'dashboard/not-built': 404,
  'dashboard/busy': 503,
  'participant-page/not-built': 404,
} as const;

/** A stable error code of the HTTP API. */
export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The JSON body of every 4xx answer. */
export interface HttpErrorBody {
  error: { code: string; message: string; field?: string };
}

/** A rejection of a request for breaking a named rule; never changes coordinator state. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: HttpErrorCode;
  readonly field: string | undefined;
  /** Seconds the client should wait before trying again (the answer's Retry-After), for a refusal that is only for now. */
  readonly retryAfterS: number | undefined;

  constructor(code: HttpErrorCode, message: string, field?: string, retryAfterS?: number) {
    super(message);
    this.name = 'HttpError';
    this.code = code;
    this.status = HTTP_ERRORS[code];
    this.field = field;
    this.retryAfterS = retryAfterS;
  }

  /** The response body. */
  toJSON(): HttpErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } };
  }
}

/** body-parser's error shape (it sets `type` and `status`). */
interface BodyParserError {
  type?: string;
  status?: number;
  message?: string;
}

/** Maps a body-parser failure (oversized, malformed JSON, bad charset …) to its HttpError. */
export function fromBodyParserError(err: unknown): HttpError | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as BodyParserError;
  switch (e.type) {
    case 'entity.too.large':
      return new HttpError('request/body-too-large', 'the request body exceeds the size limit');
    case 'entity.parse.failed':
      return new HttpError('request/malformed-json', `the body is not valid JSON: ${e.message ?? ''}`.trim());
    case 'encoding.unsupported':
    case 'charset.unsupported':
    case 'entity.verify.failed':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'request.aborted':
      return new HttpError('request/bad-encoding', `the body could not be read: ${e.message ?? e.type}`);
    default:
      return null;
  }
}

/** What the coordinator logs for a rejected request: once, one line. */
export type RejectionLogger = (info: { status: number; code: string; message: string; method: string; path: string }) => void;

/**
 * The last middleware: turns HttpError, FedveilError (a rule of a lower layer, e.g. a protocol
 * message that fails validation) and body-parser errors into 4xx JSON answers. Anything else is a
 * bug in the coordinator and answers 500 without details.
 */
export function errorMiddleware(log: RejectionLogger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    let http: HttpError | null = err instanceof HttpError ? err : fromBodyParserError(err);
    if (http === null && err instanceof FedveilError) http = new HttpError('round/rejected', `${err.code}: ${err.message}`);
    if (http === null) {
      const status = typeof (err as BodyParserError | null)?.status === 'number' ? (err as BodyParserError).status! : 500;
      if (status >= 400 && status < 500) http = new HttpError('request/bad-encoding', (err as Error).message ?? 'bad request');
    }
    if (http !== null) {
      log({ status: http.status, code: http.code, message: http.message, method: req.method, path: req.path });
      if (http.retryAfterS !== undefined) res.set('retry-after', String(http.retryAfterS));
      res.status(http.status).json(http.toJSON());
      return;
    }
    log({ status: 500, code: 'internal', message: err instanceof Error ? (err.stack ?? err.message) : String(err), method: req.method, path: req.path });
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
