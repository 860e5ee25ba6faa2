/**
 * How a participant waits for its coordinator: capped exponential back-off with jitter, for as
 * long as the coordinator may reasonably be away (a restart, a deploy, a network blip), and a
 * clear statement of what failed when it finally gives up.
 */

/** Retry policy for network failures and 408/429/5xx answers. */
export interface RetryPolicy {
  /** Attempts in all (1 = no retry); default: unlimited within `giveUpAfterMs`. */
  attempts?: number;
  /** First back-off in ms; doubles with each retry. */
  baseDelayMs: number;
  /** Largest back-off in ms. */
  maxDelayMs: number;
  /** Stop retrying a request once this long has passed since its first attempt; default unlimited within `attempts`. */
  giveUpAfterMs?: number;
}

/** Default: 250 ms doubling to at most 10 s, for up to 30 minutes. */
export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 250, maxDelayMs: 10_000, giveUpAfterMs: 30 * 60_000 };

/**
 * The wait before retry number `retry` (1 for the first retry): the capped exponential step
 * `min(max, base·2^(retry−1))`, half of it fixed and half drawn uniformly from `unit` ∈ [0, 1),
 * so that clients cut off together (a coordinator restart) do not come back together.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, unit: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(cap / 2 + unit * (cap / 2));
}

/**
 * The wait in ms that a Retry-After header asks for: delta-seconds or an HTTP date (RFC 9110
 * §10.2.3), measured from `now`; null when absent or not either form. Capped at an hour, so that
 * a wrong header cannot park a participant for longer than its own retry policy would.
 */
export function retryAfterMs(value: string | null, now: number): number | null {
  if (value === null) return null;
  const t = value.trim();
  let ms: number;
  if (/^[0-9]{1,10}$/.test(t)) ms = Number(t) * 1000;
  else {
    const at = Date.parse(t);
    if (!/[a-z]/i.test(t) || Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), 3_600_000);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `500ms`, `90s`, `10m`, `2h`, `1h30m` or `1d` into milliseconds.
 * Returns null when the text is not one.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return null;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * (UNITS[m[2] as string] as number);
  return Number.isFinite(total) ? Math.round(total) : null;
}

/** `1h2m3s`-style text of a duration in ms (seconds resolution; milliseconds below a second). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 || (h === 0 && m === 0) ? `${s}s` : ''}`;
}

/** Node's error codes for a TLS handshake that no retry will fix (untrusted or mismatched certificate, no TLS there). */
const TLS_FAILURES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The innermost `code` of a fetch error (`fetch failed` wraps the socket's error in `cause`). */
export function networkErrorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  let code: string | undefined;
  for (let depth = 0; depth < 5 && typeof cur === 'object' && cur !== null; depth++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return code;
}

/** Whether a fetch error is a TLS failure that retrying cannot fix. */
export function isTlsFailure(e: unknown): boolean {
  const code = networkErrorCode(e);
  return code !== undefined && TLS_FAILURES.has(code);
}

/** A one-line reason for a fetch error: the socket's message and code rather than undici's bare "fetch failed". */
export function describeNetworkError(e: unknown): string {
  let cur: unknown = e;
  let message = e instanceof Error ? e.message : String(e);
  for (let depth = 0; depth < 5 && cur instanceof Error; depth++) {
    if (cur.message && cur.message !== 'fetch failed') message = cur.message;
    cur = (cur as { cause?: unknown }).cause;
  }
  const code = networkErrorCode(e);
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}
