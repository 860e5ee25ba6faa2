import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keystreamBackend, nodeKeystream, openKeystream, sodiumKeystream, wasmKeystream, type KeystreamWriter } from '../../src/secagg/keystream.js';
import { sodium } from '../../src/secagg/sodium.js';
import { chacha20Memory } from '../../src/secagg/wasm/chacha20.js';
import { fromHex, toHex } from '../../src/secagg/index.js';
import { loadVector } from './helpers.js';

interface ChachaCase {
  name: string;
  key: string;
  nonce: string;
  counter: number;
  plaintext: string;
  ciphertext: string;
}

const rfc = loadVector<{ cases: ChachaCase[] }>('chacha20-rfc8439.json');

/** A case on the PRG's stream (zero nonce): the wasm backend has no other nonce. */
const isPrgStream = (c: ChachaCase): boolean => /^0+$/.test(c.nonce);

if (sodium === undefined) throw new Error('the sodium-native addon did not load on this machine');
const libsodium = sodium;

const backends: [string, (seed: Uint8Array) => KeystreamWriter][] = [
  ['libsodium', (seed) => sodiumKeystream(seed) as KeystreamWriter],
  ['node:crypto', nodeKeystream],
  ['wasm', wasmKeystream],
];

/** The keystream of `seed` written in pieces of the given sizes. */
function written(open: (seed: Uint8Array) => KeystreamWriter, seed: Uint8Array, sizes: readonly number[]): Uint8Array {
  const write = open(seed);
  const out = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let off = 0;
  for (const n of sizes) {
    write(out.subarray(off, off + n));
    off += n;
  }
  return out;
}

describe('RFC 8439 ChaCha20 vectors', () => {
  it.each(rfc.cases.filter((c) => isPrgStream(c)))('the wasm backend reproduces $name', (c) => {
    // Its keystream from block c.counter is the tail of the stream from block 0.
    const stream = written(wasmKeystream, fromHex(c.key), [64 * c.counter + c.plaintext.length / 2]).subarray(64 * c.counter);
    const pt = fromHex(c.plaintext);
    expect(toHex(stream.map((k, i) => k ^ (pt[i] as number)))).toBe(c.ciphertext);
  });

  it.each(rfc.cases)('libsodium and node:crypto reproduce $name', (c) => {
    const pt = fromHex(c.plaintext);
    const ours = new Uint8Array(pt.length);
    libsodium.crypto_stream_chacha20_ietf_xor_ic(ours, pt, fromHex(c.nonce), c.counter, fromHex(c.key));
    expect(toHex(ours)).toBe(c.ciphertext);
    const iv = new Uint8Array(16);
    new DataView(iv.buffer).setUint32(0, c.counter, true);
    iv.set(fromHex(c.nonce), 4);
    expect(toHex(new Uint8Array(createCipheriv('chacha20', fromHex(c.key), iv).update(pt)))).toBe(c.ciphertext);
  });

  it.each(backends)('the PRG keystream (zero nonce, counter 0) of the zero key is test vectors 1 then 2 (%s)', (_name, open) => {
    const stream = written(open, new Uint8Array(32), [64, 64]);
    expect(toHex(stream)).toBe((rfc.cases[0] as ChachaCase).ciphertext + (rfc.cases[1] as ChachaCase).ciphertext);
  });
});

describe('keystream backends', () => {
  it('the wasm backend wipes the key and the keystream from its memory after each write', () => {
    const write = wasmKeystream(new Uint8Array(32).fill(9));
    write(new Uint8Array(1000));
    expect(chacha20Memory().every((b) => b === 0)).toBe(true);
  });

  it('libsodium is used where it loads', () => {
    expect(keystreamBackend).toBe('libsodium');
  });

  it('give the same bytes for any seed, however the stream is split into whole blocks', () => {
    const sizes = fc.array(fc.integer({ min: 1, max: 40 }).map((blocks) => 64 * blocks), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), sizes, fc.integer({ min: 0, max: 63 }), (seed, blocks, tail) => {
        const split = tail > 0 ? [...blocks, tail] : blocks;
        const total = split.reduce((a, b) => a + b, 0);
        const reference = written(nodeKeystream, seed, [total]);
        expect(toHex(written(sodiumKeystream as (s: Uint8Array) => KeystreamWriter, seed, split))).toBe(toHex(reference));
        expect(toHex(written(nodeKeystream, seed, split))).toBe(toHex(reference));
        expect(toHex(written(wasmKeystream, seed, split))).toBe(toHex(reference));
        expect(toHex(written(openKeystream, seed, split))).toBe(toHex(reference));
      }),
      { numRuns: 60 },
    );
  });

  it('the wasm backend agrees with node:crypto on streams of many 64 KiB pieces and on a counter crossing 2^8 and 2^16 blocks', () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => 255 - 3 * i);
    // 4.5 MiB: past block 65536, where the low 16 bits of the counter carry; odd piece sizes.
    const split = [64, 1 << 16, (1 << 16) + 64 * 3, 1 << 20, 64 * 257, 3 << 20, 100];
    const total = split.reduce((a, b) => a + b, 0);
    expect(toHex(written(wasmKeystream, seed, split))).toBe(toHex(written(nodeKeystream, seed, [total])));
  });

  it('node:crypto accepts any split, not only whole blocks', () => {
    const seed = new Uint8Array(32).fill(7);
    expect(toHex(written(nodeKeystream, seed, [1, 2, 3, 100, 37]))).toBe(toHex(written(nodeKeystream, seed, [143])));
  });
});
