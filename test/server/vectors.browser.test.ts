/**
 * The spec vectors in Chromium: the participant page's code, bundled as the page is (browser
 * shims, noble provider, no node:crypto, no sodium-native), reproduces spec/vectors byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium as playwright, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserBundleOptions } from '../../scripts/build-participant-web.mjs';
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

  it('reproduces the composite, client-round, RFC 8032 and signed-message vectors byte for byte', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.addScriptTag({ content: bundle, type: 'module' });
    await page.waitForFunction(() => 'fedveilVectors' in globalThis);
    const ed25519 = spec('ed25519-rfc8032.json') as { tests: { secretKey: string; publicKey: string; message: string; signature: string }[] };
    const signedMessage = spec('protocol-signed-message.json') as { identitySecretKey: string; binding: string; message: unknown; signedBytes: string; signature: string };
    const got = await page.evaluate(
      (inputs) => (globalThis as unknown as { fedveilVectors: (i: unknown) => Record<string, unknown> }).fedveilVectors(inputs),
      { ed25519, signedMessage },
    );
    expect(errors).toEqual([]);
    expect(got.isBrowser).toBe(true);
    expect(got.keystream).toBe('wasm');
    expect(withoutDescription(got.composite as Record<string, unknown>)).toEqual(withoutDescription(spec('secagg-composite.json')));
    expect(withoutDescription(got.clientRound as Record<string, unknown>)).toEqual(withoutDescription(spec('protocol-client-round.json')));
    expect(got.ed25519).toEqual(ed25519.tests.map((t) => ({ publicKey: t.publicKey, signature: t.signature })));
    expect(got.signedMessage).toEqual({ signedBytes: signedMessage.signedBytes, signature: signedMessage.signature });
    await page.close();
  });
});
