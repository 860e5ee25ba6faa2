import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningCoordinator } from '../../src/server/start.js';
import { identities, smallConfig, startTestCoordinator } from './harness.js';

/** The participant page's routes and the API's CORS, without a browser. */
describe('participant page and CORS', () => {
  let running: RunningCoordinator | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  const fakeBuild = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-page-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>p</title>');
    writeFileSync(join(dir, 'tfjs-backend-wasm.wasm'), new Uint8Array([0, 97, 115, 109]));
    return dir;
  };

  it('serves the page under /participant/ with its CSP, wasm as application/wasm, and refuses other files', async () => {
    running = await startTestCoordinator(smallConfig(identities(2, 'page')), { autoStart: false, app: { participantPage: { assetsDir: fakeBuild() } } });
    const bare = await fetch(new URL('participant', running.url), { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/participant/');
    const page = await fetch(new URL('participant/', running.url));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const wasm = await fetch(new URL('participant/tfjs-backend-wasm.wasm', running.url));
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    const other = await fetch(new URL('participant/secrets.json', running.url));
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('request/not-found');
    const missing = await fetch(new URL('participant/app.js', running.url));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('participant-page/not-built');
  });

  it('answers CORS only for the configured origins', async () => {
    running = await startTestCoordinator(smallConfig(identities(2, 'cors')), { autoStart: false, app: { corsOrigins: ['https://fl.example.org/'] } });
    const preflight = await fetch(new URL('v1/rounds/0/advertise-keys', running.url), {
      method: 'OPTIONS',
      headers: { origin: 'https://fl.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-fedveil-signature' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://fl.example.org');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-fedveil-signature');
    const get = await fetch(new URL('v1/federation', running.url), { headers: { origin: 'https://fl.example.org' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('https://fl.example.org');
    expect(get.headers.get('access-control-expose-headers')).toContain('x-fedveil-model-hash');
    const stranger = await fetch(new URL('v1/federation', running.url), { headers: { origin: 'https://evil.example' } });
    expect(stranger.status).toBe(200);
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    const strangerPreflight = await fetch(new URL('v1/federation', running.url), { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(strangerPreflight.headers.get('access-control-allow-origin')).toBeNull();
    // Exact origins only: another scheme, port or subdomain of the listed one gets no CORS headers.
    for (const near of ['http://fl.example.org', 'https://fl.example.org:8443', 'https://www.fl.example.org', 'https://fl.example.org.evil.example', 'null']) {
      const preflight = await fetch(new URL('v1/rounds/0/advertise-keys', running.url), { method: 'OPTIONS', headers: { origin: near, 'access-control-request-method': 'POST' } });
      expect(preflight.status).not.toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
      const get = await fetch(new URL('v1/federation', running.url), { headers: { origin: near } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
      expect(get.headers.get('access-control-expose-headers')).toBeNull();
    }
    // No Origin header (a Node client, curl): the API answers as always, without CORS headers.
    const plain = await fetch(new URL('v1/federation', running.url));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });
});
