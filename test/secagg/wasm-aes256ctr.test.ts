import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WasmAes256Ctr, aes256CtrMemory } from '../../src/secagg/wasm/aes256ctr.js';
import { fromHex, toHex } from '../../src/secagg/index.js';
import { randomBytes, seededRandom } from '../../src/secagg/util/random.js';

/*
 * The browser's AES-256-CTR (aes256ctr.wat, the participant page's rounding and noise stream) must
 * give node:crypto's aes-256-ctr bytes exactly: spec/dp.md pins the stream to it.
 */
const rng = seededRandom('wasm-aes256ctr');
const vector = JSON.parse(readFileSync('spec/vectors/aes256ctr-sp800-38a.json', 'utf8')) as { key: string; initialCounter: string; plaintext: string; ciphertext: string };

/** Feeds `sizes` (cycled) of fresh random data to both ciphers until `total` bytes, comparing each answer. */
function expectSameStream(key: Uint8Array, iv: Uint8Array, sizes: readonly number[], total: number): void {
  const ours = new WasmAes256Ctr(key, iv);
  const theirs = createCipheriv('aes-256-ctr', key, iv);
  for (let done = 0, i = 0; done < total; i++) {
    const data = randomBytes(rng, sizes[i % sizes.length] as number);
    const got = ours.update(data);
    const want = new Uint8Array(theirs.update(data));
    if (toHex(got) !== toHex(want)) expect({ key: toHex(key), iv: toHex(iv), done, n: data.length, got: toHex(got) }).toEqual({ key: toHex(key), iv: toHex(iv), done, n: data.length, got: toHex(want) });
    done += data.length;
  }
  expect(ours.final().length).toBe(0);
}

/**
 * A counter block whose last `bytes` bytes are 2^(8·bytes) − `before` (big-endian) after random
 * leading bytes: `before` blocks from now those bytes carry into the rest (or, all 16, wrap to 0).
 */
function nearCarry(bytes: number, before: number): Uint8Array {
  const iv = randomBytes(rng, 16);
  let low = (1n << BigInt(8 * bytes)) - BigInt(before);
  for (let i = 15; i >= 16 - bytes; i--, low >>= 8n) iv[i] = Number(low & 0xffn);
  return iv;
}

describe('the WebAssembly AES-256-CTR', () => {
  it('encrypts NIST SP 800-38A F.5.5 (CTR-AES256), whole and a byte at a time', () => {
    const key = fromHex(vector.key);
    const iv = fromHex(vector.initialCounter);
    const pt = fromHex(vector.plaintext);
    expect(toHex(new WasmAes256Ctr(key, iv).update(pt))).toBe(vector.ciphertext);
    const c = new WasmAes256Ctr(key, iv);
    const out = new Uint8Array(pt.length);
    for (let i = 0; i < pt.length; i++) out.set(c.update(pt.subarray(i, i + 1)), i);
    expect(toHex(out)).toBe(vector.ciphertext);
  });

  it('streams as node:crypto does for random keys, IVs and write sizes, across its 64 KiB transfers', () => {
    for (let trial = 0; trial < 24; trial++) {
      const sizes = Array.from({ length: 5 }, () => [0, 1, 15, 16, 17, 31, 4096, 65535, 65536, 65552, 200_003][(randomBytes(rng, 1)[0] as number) % 11] as number);
      expectSameStream(randomBytes(rng, 32), randomBytes(rng, 16), sizes, 150_000);
    }
  });

  it('carries the counter across 2^32, 2^64 and 2^96 and wraps it at 2^128, as OpenSSL does', () => {
    for (const bytes of [4, 8, 12, 16]) {
      for (const before of [1, 2, 5, 4096]) {
        const iv = nearCarry(bytes, before);
        expectSameStream(randomBytes(rng, 32), iv, [7, 16, 33, 65536 + 5], 2 * 16 * before + 100_000);
      }
    }
    // all ones: the very next block is counter 0
    expectSameStream(randomBytes(rng, 32), new Uint8Array(16).fill(0xff), [1, 16, 64], 400);
  });

  it('keeps ciphers open side by side apart and leaves no key, counter or data in the module', () => {
    const keys = [randomBytes(rng, 32), randomBytes(rng, 32)];
    const ivs = [randomBytes(rng, 16), randomBytes(rng, 16)];
    const ours = keys.map((k, i) => new WasmAes256Ctr(k, ivs[i] as Uint8Array));
    const theirs = keys.map((k, i) => createCipheriv('aes-256-ctr', k, ivs[i] as Uint8Array));
    for (const n of [5, 100_000, 3, 16, 70_000]) {
      for (const j of [0, 1]) {
        const data = randomBytes(rng, n);
        expect(toHex((ours[j] as WasmAes256Ctr).update(data))).toBe(toHex(new Uint8Array((theirs[j] as ReturnType<typeof createCipheriv>).update(data))));
      }
    }
    // [0, 4352): the public tables and S-box; everything after them is wiped
    expect(aes256CtrMemory().subarray(4352).every((b) => b === 0)).toBe(true);
  });

  it('refuses a key or IV of another length', () => {
    expect(() => new WasmAes256Ctr(new Uint8Array(16), new Uint8Array(16))).toThrow(/32-byte key/);
    expect(() => new WasmAes256Ctr(new Uint8Array(32), new Uint8Array(12))).toThrow(/16-byte IV/);
  });
});
