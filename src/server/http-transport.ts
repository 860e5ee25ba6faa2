import { sha256 } from '@noble/hashes/sha2.js';
import type { z } from 'zod';
import { FedveilError, randomUnit, toHex, type CryptoProvider, type KeyPair, type RandomSource } from '../secagg/index.js';
import { signRequest } from './request-auth.js';
import { backoffDelay, DEFAULT_RETRY, describeNetworkError, formatDuration, isTlsFailure, networkErrorCode, retryAfterMs, type RetryPolicy } from './retry.js';
import { ErrorBodySchema, SESSION_HEADER } from './wire.js';

export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';

/** How often a client waiting for an unreachable coordinator says so. */
const OUTAGE_LOG_EVERY_MS = 30_000;

/** A 4xx answer of the coordinator (validated error body). Not retried. */
export class CoordinatorRejection extends FedveilError {
  readonly status: number;
  readonly rule: string;
  constructor(status: number, rule: string, message: string) {
    super(`client/rejected`, `coordinator answered ${status} ${rule}: ${message}`);
    this.status = status;
    this.rule = rule;
  }
}

/** What a signed request binds besides its body. */
export interface SignedTarget {
  federationId: string;
  round: number;
  phase: string;
}

/**
 * The participant's HTTP transport: global fetch, every request signed when it targets a round,
 * every JSON answer validated with zod, retries with capped exponential back-off and jitter on
 * network errors and on 408/429/5xx (waiting at least what a Retry-After header asks, the
 * coordinator's answer when too many uploads wait) for as long as the {@link RetryPolicy} allows (a coordinator
 * restart is waited out, with a log line every so often). Other 4xx answers are returned as
 * {@link CoordinatorRejection}, never retried, except `join/unknown-session` (the coordinator
 * restarted and forgot this client's session): then {@link onUnknownSession} joins again and the
 * request is repeated.
 */
export class CoordinatorHttp {
  /** The session token sent with every request once joined (header `x-fedveil-session`). */
  session: string | null = null;
  /** Joins again after the coordinator answered `join/unknown-session`. */
  onUnknownSession: (() => Promise<void>) | null = null;
  private outageSince: number | null = null;
  private outageLoggedAt = 0;

  constructor(
    readonly baseUrl: string,
    private readonly identity: KeyPair,
    private readonly provider: CryptoProvider,
    private readonly random: RandomSource,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly signal?: AbortSignal,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** GET a JSON resource, validated by `schema`. */
  async getJson<S extends z.ZodType>(path: string, schema: S, signed?: SignedTarget): Promise<z.output<S>> {
    const res = await this.request('GET', path, undefined, undefined, signed);
    return this.json(res, schema, path);
  }

  /**
   * GET an answer's text, for a caller that decodes it itself (and may share the decoding between
   * participants fetching the same text). Throws `client/bad-response` when the body cannot be read.
   */
  async getText(path: string, signed?: SignedTarget): Promise<string> {
    const res = await this.request('GET', path, undefined, undefined, signed);
    try {
      return await res.text();
    } catch {
      throw new FedveilError('client/bad-response', `${path}: the coordinator's answer could not be read`);
    }
  }

  /** POST a body (signed), answer validated by `schema`. */
  async postJson<S extends z.ZodType>(path: string, body: Uint8Array, contentType: string, schema: S, signed: SignedTarget): Promise<z.output<S>> {
    const res = await this.request('POST', path, body, contentType, signed);
    return this.json(res, schema, path);
  }

  /** GET binary content with its headers. */
  async getBytes(path: string): Promise<{ bytes: Uint8Array; headers: Headers }> {
    const res = await this.request('GET', path);
    return { bytes: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
  }

  private async json<S extends z.ZodType>(res: Response, schema: S, path: string): Promise<z.output<S>> {
    let value: unknown;
    try {
      value = await res.json();
    } catch {
      throw new FedveilError('client/bad-response', `${path}: the coordinator's answer is not JSON`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new FedveilError('client/bad-response', `${path}: unexpected answer: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: Uint8Array, contentType?: string, signed?: SignedTarget): Promise<Response> {
    const started = Date.now();
    const giveUpAt = this.retry.giveUpAfterMs === undefined ? Infinity : started + this.retry.giveUpAfterMs;
    const maxAttempts = this.retry.attempts ?? Infinity;
    let lastError: unknown;
    let rejoins = 0;
    let asked = 0;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        const left = giveUpAt - Date.now();
        if (attempt >= maxAttempts || left <= 0) throw this.unreachable(method, path, lastError, attempt, Date.now() - started);
        // The jittered back-off on top of the asked wait keeps the clients a busy coordinator
        // turned away together from coming back together.
        await this.sleep(Math.min(left, asked + backoffDelay(attempt, this.retry, randomUnit(this.random))));
        asked = 0;
      }
      const headers: Record<string, string> = {};
      if (contentType !== undefined) headers['content-type'] = contentType;
      if (this.session !== null) headers[SESSION_HEADER] = this.session;
      if (signed) {
        // A fresh nonce per attempt: the coordinator accepts each nonce once.
        Object.assign(headers, signRequest(this.provider, this.identity, { ...signed, method, body: body ?? new Uint8Array(0) }, this.random));
      }
      let res: Response;
      try {
        res = await this.fetchFn(new URL(path, this.baseUrl), {
          method,
          headers,
          // Our bodies are never on a SharedArrayBuffer; the DOM's fetch types insist on saying so.
          ...(body === undefined ? {} : { body: body as Uint8Array<ArrayBuffer> }),
          ...(this.signal ? { signal: this.signal } : {}),
        });
      } catch (e) {
        if (this.signal?.aborted) throw e;
        if (isTlsFailure(e)) throw this.tlsFailure(e);
        lastError = e;
        this.noteOutage(e);
        continue;
      }
      this.noteReachable();
      if (res.ok) return res;
      // 408 (the server timed out reading a request we were slow to send), 429 and 5xx are
      // transient: try again. Every other 4xx is a rule we broke and is final.
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        lastError = new FedveilError('client/server-error', `${method} ${path}: HTTP ${res.status}`);
        asked = retryAfterMs(res.headers.get('retry-after'), Date.now()) ?? 0;
        await res.body?.cancel().catch(() => {});
        continue;
      }
      let err: unknown;
      try {
        err = await res.json();
      } catch {
        err = undefined;
      }
      const parsed = ErrorBodySchema.safeParse(err);
      if (!parsed.success) throw new CoordinatorRejection(res.status, 'unknown', `${method} ${path}: malformed error body`);
      if (parsed.data.error.code === 'join/unknown-session' && this.onUnknownSession !== null && rejoins < 3) {
        rejoins++;
        this.log(`the coordinator at ${this.baseUrl} does not know this session (it restarted?): joining again`);
        await this.onUnknownSession();
        attempt = -1; // the repeated request starts afresh, without back-off
        continue;
      }
      throw new CoordinatorRejection(res.status, parsed.data.error.code, parsed.data.error.message);
    }
  }

  private noteOutage(e: unknown): void {
    const now = Date.now();
    if (this.outageSince === null) this.outageSince = now;
    else if (now - this.outageLoggedAt < OUTAGE_LOG_EVERY_MS) return;
    this.outageLoggedAt = now;
    const limit = this.retry.giveUpAfterMs === undefined ? '' : `; giving up after ${formatDuration(this.retry.giveUpAfterMs)} without an answer`;
    const since = now - this.outageSince >= 1000 ? ` for ${formatDuration(now - this.outageSince)}` : '';
    this.log(`waiting for the coordinator at ${this.baseUrl}: unreachable${since} (${describeNetworkError(e)}); retrying${limit}`);
  }

  private noteReachable(): void {
    if (this.outageSince === null) return;
    this.log(`the coordinator at ${this.baseUrl} answers again (after ${formatDuration(Date.now() - this.outageSince)})`);
    this.outageSince = null;
  }

  private unreachable(method: string, path: string, lastError: unknown, attempts: number, elapsedMs: number): FedveilError {
    const reason = lastError instanceof FedveilError ? lastError.message : describeNetworkError(lastError);
    const url = new URL(this.baseUrl);
    const refused = networkErrorCode(lastError) === 'ECONNREFUSED';
    return new FedveilError(
      'client/unreachable',
      `gave up on the coordinator at ${this.baseUrl} after ${formatDuration(elapsedMs)} and ${attempts} attempts (${method} ${path}): ${reason}. ` +
        `Check that \`fedveil serve\` is running there${refused ? ' (nothing listens on that port now)' : ''}, that ${url.host} is the address it listens on and is reachable from this machine (firewall, proxy)` +
        `${url.protocol === 'https:' ? ', that its certificate is trusted (--ca)' : ''}, or wait longer with --give-up-after.`,
    );
  }

  private tlsFailure(e: unknown): FedveilError {
    const code = networkErrorCode(e);
    const hint =
      code === 'ERR_SSL_WRONG_VERSION_NUMBER'
        ? 'the coordinator does not speak TLS there: use an http:// URL, or give it listen.tls in its config'
        : code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? 'its certificate does not name the host in the URL: connect by a name or address the certificate lists'
          : 'its certificate is not trusted here: pass the certificate (or the CA that signed it) with --ca FILE';
    return new FedveilError('client/tls-failed', `TLS with the coordinator at ${this.baseUrl} failed: ${describeNetworkError(e)}; ${hint}`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.signal;
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** SHA-256 hex of bytes (model integrity checks). */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}
