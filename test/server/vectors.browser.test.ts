/**
 * The spec vectors in Chromium: the participant page's code, bundled as the page is (browser
 * shims, noble provider, no node:crypto, no sodium-native), reproduces spec/vectors byte for byte.
 */
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium as playwright, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserBundleOptions } from '../../scripts/build-participant-web.mjs';
import { fromHex, toHex } from '../../src/secagg/index.js';
import { randomBytes, seededRandom } from '../../src/secagg/util/random.js';
import { chromium } from '../services.js';

const browserService = chromium();
const spec = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join('spec', 'vectors', name), 'utf8')) as Record<string, unknown>;
const withoutDescription = ({ description: _d, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;

describe.skipIf(!browserService.available)('spec/vectors in Chromium', () => {
  let browser: Browser;
  let bundle: string;

  beforeAll(async () => {
    const out = await build({ ...browserBundleOptions(), entryPoints: ['test/browser/vectors-entry.ts'],
      format: 'esm',
      write: false,
      metafile: true,
      // The vector builders write spec/vectors when run with --write; in the page they never do.
      define: { 'process.argv': '[]' },
    });
    const inputs = Object.keys(out.metafile.inputs);
    // The bundle computes with the portable code only.
    expect(inputs.filter((p) => /sodium-native|node_modules\/@types/.test(p))).toEqual([]);
    bundle = out.outputFiles[0]!.text;
    browser = await playwright.launch({ executablePath: browserService.location, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('reproduces the composite, client-round, RFC 8032, signed-message and AES-256-CTR vectors byte for byte', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.addScriptTag({ content: bundle, type: 'module' });
    await page.waitForFunction(() => 'fedveilVectors' in globalThis);
    const ed25519 = spec('ed25519-rfc8032.json') as { tests: { secretKey: string; publicKey: string; message: string; signature: string }[] };
    const signedMessage = spec('protocol-signed-message.json') as { identitySecretKey: string; binding: string; message: unknown; signedBytes: string; signature: string };
    // AES-256-CTR: NIST SP 800-38A F.5.5, then random keys, data and write sizes, with counters
    // about to carry across 2^32 and to wrap at 2^128 (expected: node:crypto's aes-256-ctr).
    const sp = spec('aes256ctr-sp800-38a.json') as { key: string; initialCounter: string; plaintext: string; ciphertext: string };
    const rng = seededRandom('vectors.browser/aes');
    const carrying = (bytes: number) => Uint8Array.from([...randomBytes(rng, 16 - bytes), ...new Uint8Array(bytes).fill(0xff)]);
    const aes = [
      { key: sp.key, iv: sp.initialCounter, data: sp.plaintext, sizes: [1, 15, 17, 31] },
      ...[randomBytes(rng, 16), carrying(4), carrying(16), randomBytes(rng, 16)].map((iv, i) => ({
        key: toHex(randomBytes(rng, 32)),
        iv: toHex(iv),
        data: toHex(randomBytes(rng, [70_001, 333, 4096, 150_000][i] as number)),
        sizes: [[65_536, 1, 4_464], [16, 7, 1], [4096], [3, 65_552, 16_000]][i] as number[],
      })),
    ];
    const got = await page.evaluate(
      (inputs) => (globalThis as unknown as { fedveilVectors: (i: unknown) => Record<string, unknown> }).fedveilVectors(inputs),
      { ed25519, signedMessage, aes },
    );
    expect(errors).toEqual([]);
    expect(got.isBrowser).toBe(true);
    expect(got.keystream).toBe('wasm');
    expect(got.aesBackend).toBe('wasm');
    expect(got.aes).toEqual(aes.map((c) => toHex(new Uint8Array(createCipheriv('aes-256-ctr', fromHex(c.key), fromHex(c.iv)).update(fromHex(c.data))))));
    expect((got.aes as string[])[0]).toBe(sp.ciphertext);
    expect(withoutDescription(got.composite as Record<string, unknown>)).toEqual(withoutDescription(spec('secagg-composite.json')));
    expect(withoutDescription(got.clientRound as Record<string, unknown>)).toEqual(withoutDescription(spec('protocol-client-round.json')));
    expect(got.ed25519).toEqual(ed25519.tests.map((t) => ({ publicKey: t.publicKey, signature: t.signature })));
    expect(got.signedMessage).toEqual({ signedBytes: signedMessage.signedBytes, signature: signedMessage.signature });
    await page.close();
  });
});
