import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { nodeProvider, seededRandom } from '../../src/secagg/index.js';
import { CoordinatorHttp } from '../../src/server/http-transport.js';
import { backoffDelay, describeNetworkError, formatDuration, isTlsFailure, parseDuration, retryAfterMs } from '../../src/server/retry.js';
import { identities } from './fixtures.js';

describe('back-off', () => {
  it('grows exponentially to its cap, half fixed and half jittered', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 5000 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, u) => {
        const cap = Math.min(5000, 100 * 2 ** (retry - 1));
        const d = backoffDelay(retry, policy, u);
        expect(d).toBeGreaterThanOrEqual(Math.floor(cap / 2));
        expect(d).toBeLessThanOrEqual(cap);
      }),
    );
    expect([1, 2, 3, 7, 50].map((r) => backoffDelay(r, policy, 0))).toEqual([50, 100, 200, 2500, 2500]);
  });
});

describe('durations', () => {
  it('parses what --give-up-after takes and refuses the rest', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2d')).toBe(172_800_000);
    for (const bad of ['90', '', 'ten minutes', '5 m', '-3s', '1x']) expect(parseDuration(bad)).toBeNull();
  });

  it('prints them compactly', () => {
    expect([250, 1000, 61_000, 3_600_000, 5_430_000].map(formatDuration)).toEqual(['250ms', '1s', '1m1s', '1h', '1h30m30s']);
  });
});

describe('network errors', () => {
  it('name the socket error under fetch\'s "fetch failed", and tell TLS failures apart', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    expect(describeNetworkError(refused)).toBe('connect ECONNREFUSED 127.0.0.1:9');
    expect(isTlsFailure(refused)).toBe(false);
    const selfSigned = new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
    expect(describeNetworkError(selfSigned)).toBe('self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    expect(isTlsFailure(selfSigned)).toBe(true);
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates, never negative, at most an hour, and nothing else', () => {
    const now = Date.parse('2026-12-06T03:00:00Z');
    expect(retryAfterMs('1', now)).toBe(1000);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('Sun, 06 Dec 2026 03:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sun, 06 Dec 2026 02:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('999999', now)).toBe(3_600_000);
    for (const bad of [null, '', '-1', '1.5', 'soon', 'in 5 minutes']) expect(retryAfterMs(bad, now)).toBeNull();
  });

  it("the participant's transport waits what a 503's Retry-After asks before it tries again", async () => {
    vi.useFakeTimers();
    try {
      const calls: number[] = [];
      const fetchFn = (async () => {
        calls.push(Date.now());
        return calls.length === 1
          ? new Response('{"error":{"code":"request/busy","message":"busy"}}', { status: 503, headers: { 'retry-after': '2' } })
          : Response.json({ ok: true });
      }) as typeof fetch;
      const http = new CoordinatorHttp('http://coordinator.invalid/', identities(1, 'retry-after')[0]!, nodeProvider, seededRandom('r'), { baseDelayMs: 1, maxDelayMs: 1 }, fetchFn);
      const answer = http.getJson('v1/round', z.object({ ok: z.boolean() }));
      await vi.advanceTimersByTimeAsync(1999);
      expect(calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(2);
      expect(calls).toHaveLength(2);
      expect(await answer).toEqual({ ok: true });
      expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(2000);
    } finally {
      vi.useRealTimers();
    }
  });
});
