import { sha256 } from '@noble/hashes/sha2.js';
import type { z } from 'zod';
import { FedveilError, randomUnit, toHex, type CryptoProvider, type KeyPair, type RandomSource } from '../secagg/index.js';
import { signRequest } from './request-auth.js';
import { ErrorBodySchema } from './wire.js';

/** Retry policy for network failures and 408/429/5xx answers. */
export interface RetryPolicy {
  /** Attempts in all (1 = no retry). */
  attempts: number;
  /** First back-off in ms; doubles each retry, with full jitter. */
  baseDelayMs: number;
  /** Largest back-off in ms. */
  maxDelayMs: number;
}

/** Default: 6 attempts, 100 ms doubling to at most 5 s. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 };

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
 * every JSON answer validated with zod, retries with exponential back-off and jitter on network
 * errors and on 408/429/5xx. Other 4xx answers are returned as {@link CoordinatorRejection}, never retried.
 */
export class CoordinatorHttp {
  constructor(
    readonly baseUrl: string,
    private readonly identity: KeyPair,
    private readonly provider: CryptoProvider,
    private readonly random: RandomSource,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly signal?: AbortSignal,
  ) {}

  /** GET a JSON resource, validated by `schema`. */
  async getJson<S extends z.ZodType>(path: string, schema: S, signed?: SignedTarget): Promise<z.output<S>> {
    const res = await this.request('GET', path, undefined, undefined, signed);
    return this.json(res, schema, path);
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
    let lastError: unknown;
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      if (attempt > 0) await this.sleep(this.backoff(attempt));
      const headers: Record<string, string> = {};
      if (contentType !== undefined) headers['content-type'] = contentType;
      if (signed) {
        // A fresh nonce per attempt: the coordinator accepts each nonce once.
        Object.assign(headers, signRequest(this.provider, this.identity, { ...signed, method, body: body ?? new Uint8Array(0) }, this.random));
      }
      let res: Response;
      try {
        res = await this.fetchFn(new URL(path, this.baseUrl), {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          ...(this.signal ? { signal: this.signal } : {}),
        });
      } catch (e) {
        if (this.signal?.aborted) throw e;
        lastError = e;
        continue;
      }
      if (res.ok) return res;
      // 408 (the server timed out reading a request we were slow to send), 429 and 5xx are
      // transient: try again. Every other 4xx is a rule we broke and is final.
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        lastError = new FedveilError('client/server-error', `${method} ${path}: HTTP ${res.status}`);
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
      throw new CoordinatorRejection(res.status, parsed.data.error.code, parsed.data.error.message);
    }
    throw new FedveilError(
      'client/unreachable',
      `${method} ${path}: gave up after ${this.retry.attempts} attempts: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    );
  }

  private backoff(attempt: number): number {
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(randomUnit(this.random) * cap);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** SHA-256 hex of bytes (model integrity checks). */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}
