import * as node from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as shim from '../../web/dashboard/shims/crypto.js';
import { Buffer as ShimBuffer } from '../../web/dashboard/shims/buffer.js';
import { WasmAes256Ctr } from '../../src/secagg/wasm/aes256ctr.js';
import { sha256Memory } from '../../src/secagg/wasm/sha256.js';
import { seededRandom, randomBytes } from '../../src/secagg/util/random.js';

// The dashboard's browser bundle runs the verifier's modules on these shims instead of node's
// crypto and Buffer: they must give node's bytes exactly.
const rng = seededRandom('dashboard-shims');

describe('the browser shims of the dashboard', () => {
  it('hash and HMAC as node:crypto does', () => {
    for (const n of [0, 1, 55, 64, 1000]) {
      const data = randomBytes(rng, n);
      const key = randomBytes(rng, 32);
      expect(shim.createHash('sha256').update(data.subarray(0, n >> 1)).update(data.subarray(n >> 1)).digest()).toEqual(
        new Uint8Array(node.createHash('sha256').update(data).digest()),
      );
      expect(shim.createHmac('sha256', key).update(data).digest()).toEqual(new Uint8Array(node.createHmac('sha256', key).update(data).digest()));
    }
    expect(() => shim.createHash('md5')).toThrow(/not available/);
  });

  it('hashes megabytes as node:crypto does, fed whole or in odd pieces across its 64 KiB transfers, and wipes the module', () => {
    const data = randomBytes(rng, (3 << 20) + 77);
    const expected = new Uint8Array(node.createHash('sha256').update(data).digest());
    expect(shim.createHash('sha256').update(data).digest()).toEqual(expected);
    const pieces = shim.createHash('sha256');
    // around the 64-byte block and the 64 KiB transfer: short, unaligned, exactly one transfer, more
    for (let off = 0, i = 0; off < data.length; i++) {
      const n = [1, 63, 65, 1 << 16, (1 << 16) + 1, 200_003, 64][i % 7] as number;
      pieces.update(data.subarray(off, off + n));
      off += n;
    }
    expect(pieces.digest()).toEqual(expected);
    // message lengths whose padding takes one block or two, and a string
    for (const n of [55, 56, 63, 119, 120]) {
      const d = data.subarray(0, n);
      expect(shim.createHash('sha256').update(d).digest()).toEqual(new Uint8Array(node.createHash('sha256').update(d).digest()));
    }
    expect(shim.createHash('sha256').update('fedveil').digest()).toEqual(new Uint8Array(node.createHash('sha256').update('fedveil').digest()));
    // all but the round constants at [32, 288)
    expect(sha256Memory().subarray(0, 32).every((b) => b === 0) && sha256Memory().subarray(288).every((b) => b === 0)).toBe(true);
  });

  // AES-256-CTR twice: on the WebAssembly module (the participant page) and in JavaScript (pages
  // that cannot compile WebAssembly, such as the dashboard).
  const ciphers = [
    ['aes-256-ctr', 'wasm'],
    ['aes-256-ctr', 'javascript'],
    ['chacha20', undefined],
  ] as const;

  for (const [algorithm, backend] of ciphers) {
    it(`streams ${algorithm}${backend ? ` (${backend})` : ''} as node:crypto does, across odd write sizes and a counter carry`, () => {
      shim.useAesBackend(backend);
      const key = randomBytes(rng, 32);
      // the second IV is two blocks short of wrapping its counter's low 32 bits (AES-CTR: the
      // last four bytes, big-endian; OpenSSL's ChaCha20: the first four, little-endian)
      const wrapping = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe];
      for (const iv of [new Uint8Array(16), Uint8Array.from(algorithm === 'chacha20' ? [...wrapping].reverse() : wrapping)]) {
        const ours = shim.createCipheriv(algorithm, key, iv);
        const theirs = node.createCipheriv(algorithm, key, iv);
        for (const n of [1, 15, 16, 17, 63, 64, 65, 300]) {
          const data = randomBytes(rng, n);
          expect(ours.update(data)).toEqual(new Uint8Array(theirs.update(data)));
        }
      }
    });
  }

  for (const [algorithm, backend] of ciphers) {
    it(`streams ${algorithm}${backend ? ` (${backend})` : ''} as node:crypto does in bulk: whole blocks at aligned and unaligned offsets, across a counter carry`, () => {
      shim.useAesBackend(backend);
      const key = randomBytes(rng, 32);
      // ~16 (ChaCha20) or ~1000 (AES) blocks before the counter's low 32 bits wrap
      const nearWrap = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, algorithm === 'chacha20' ? 0xff : 0xfc, 0x10];
      const iv = Uint8Array.from(algorithm === 'chacha20' ? [...nearWrap].reverse() : nearWrap);
      const ours = shim.createCipheriv(algorithm, key, iv);
      const theirs = node.createCipheriv(algorithm, key, iv);
      const pool = randomBytes(rng, 1 << 14);
      // (offset into the pool, length): aligned bulk, a block-unaligned tail, unaligned buffers.
      for (const [offset, n] of [[0, 4096], [0, 1000], [4, 1027], [1, 2048], [3, 5], [8, 4096], [2, 8192]] as const) {
        const data = pool.subarray(offset, offset + n);
        expect(ours.update(data)).toEqual(new Uint8Array(theirs.update(data)));
      }
    });
  }

  it('uses the WebAssembly AES-256-CTR where WebAssembly compiles', () => {
    shim.useAesBackend(undefined);
    expect(shim.aesBackend()).toBe('wasm');
    expect(shim.createCipheriv('aes-256-ctr', new Uint8Array(32), new Uint8Array(16))).toBeInstanceOf(WasmAes256Ctr);
  });

  it('refuses ciphers it does not implement', () => {
    expect(() => shim.createCipheriv('aes-128-ctr', new Uint8Array(16), new Uint8Array(16))).toThrow(/not available/);
  });

  it('converts hex, base64 and base64url as Buffer does', () => {
    for (const n of [0, 1, 2, 3, 31, 32]) {
      const bytes = randomBytes(rng, n);
      const hex = Buffer.from(bytes).toString('hex');
      expect(ShimBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')).toBe(hex);
      expect(new Uint8Array(ShimBuffer.from(hex, 'hex'))).toEqual(bytes);
      expect(ShimBuffer.from(bytes).toString('base64')).toBe(Buffer.from(bytes).toString('base64'));
      expect(ShimBuffer.from(bytes).toString('base64url')).toBe(Buffer.from(bytes).toString('base64url'));
      expect(new Uint8Array(ShimBuffer.from(Buffer.from(bytes).toString('base64'), 'base64'))).toEqual(bytes);
    }
    expect(new Uint8Array(ShimBuffer.concat([Uint8Array.of(1), Uint8Array.of(2, 3)]))).toEqual(Uint8Array.of(1, 2, 3));
    expect(ShimBuffer.alloc(4).toString('hex')).toBe('00000000');
  });
});
