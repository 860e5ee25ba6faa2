import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prgAddInPlace } from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

/*
 * prgAddInPlace streams the keystream in 8192-word chunks and accumulates with loops unrolled
 * eight ways, specialised by bit width (32 or below) and sign. These tests pin every one of those
 * paths to a deliberately plain reference: the whole keystream from one cipher call, words read
 * with DataView, and the modular sum computed in exact double arithmetic.
 */

const CHUNK_WORDS = 8192;

function referenceAdd(acc: Uint32Array, seed: Uint8Array, bits: number, sign: 1 | -1): Uint32Array {
  const ks = createCipheriv('aes-256-ctr', seed, new Uint8Array(16)).update(new Uint8Array(4 * acc.length));
  const dv = new DataView(ks.buffer, ks.byteOffset, ks.length);
  const mod = 2 ** bits;
  const out = new Uint32Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    const word = dv.getUint32(4 * i, true) % mod;
    out[i] = ((((acc[i] as number) + sign * word) % mod) + mod) % mod;
  }
  return out;
}

/** First index where a and b differ, or −1 (keeps failure messages short for long vectors). */
function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Lengths around every boundary the implementation has: empty, the 8-way unroll, the chunk. */
const lengthArb = fc.oneof(
  fc.constantFrom(0, 1, 7, 8, 9, 15, 16, 17, CHUNK_WORDS - 1, CHUNK_WORDS, CHUNK_WORDS + 1, 2 * CHUNK_WORDS + 3),
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: CHUNK_WORDS - 20, max: 3 * CHUNK_WORDS + 20 }),
);
const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const signArb = fc.constantFrom<1 | -1>(1, -1);
/** Accumulator contents: unreduced 32-bit words, built from a seed so large vectors stay cheap. */
const fillArb = fc.integer({ min: 0, max: 0xffffffff });

function filled(length: number, start: number): Uint32Array {
  const acc = new Uint32Array(length);
  let x = start >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    acc[i] = x;
  }
  return acc;
}

describe('prgAddInPlace against a plain reference', () => {
  it('matches for every bit width 1..32 and both signs, over lengths around the unroll and chunk sizes', () => {
    for (let bits = 1; bits <= 32; bits++) {
      for (const sign of [1, -1] as const) {
        fc.assert(
          fc.property(seedArb, lengthArb, fillArb, (seed, length, start) => {
            const acc = filled(length, start);
            const want = referenceAdd(acc, seed, bits, sign);
            prgAddInPlace(acc, seed, bits, sign);
            expect(firstDifference(acc, want), `bits=${bits} sign=${sign} length=${length}`).toBe(-1);
          }),
          { numRuns: 6 },
        );
      }
    }
  });

  it('matches on an accumulator that is a view at a nonzero offset into a larger buffer', () => {
    fc.assert(
      fc.property(seedArb, lengthArb, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 32 }), signArb, (seed, length, offset, bits, sign) => {
        const backing = filled(length + offset + 5, 42);
        const before = Uint32Array.from(backing);
        const acc = backing.subarray(offset, offset + length);
        const want = referenceAdd(acc, seed, bits, sign);
        prgAddInPlace(acc, seed, bits, sign);
        expect(firstDifference(acc, want)).toBe(-1);
        // Words outside the view are untouched.
        expect(Array.from(backing.subarray(0, offset))).toEqual(Array.from(before.subarray(0, offset)));
        expect(Array.from(backing.subarray(offset + length))).toEqual(Array.from(before.subarray(offset + length)));
      }),
      { numRuns: 40 },
    );
  });

  it('accepts an empty accumulator but still validates the other arguments', () => {
    const acc = new Uint32Array(0);
    expect(() => prgAddInPlace(acc, new Uint8Array(32).fill(1), 32, 1)).not.toThrow();
    expectCode(() => prgAddInPlace(acc, new Uint8Array(31), 32, 1), 'prg/bad-seed');
    expectCode(() => prgAddInPlace(acc, new Uint8Array(32), 0, 1), 'zmod/bad-bits');
    expectCode(() => prgAddInPlace(acc, new Uint8Array(32), 32, 2 as unknown as 1), 'prg/bad-sign');
  });

  it('a single word is the first keystream word, reduced', () => {
    const seed = new Uint8Array(32).fill(9);
    const first = createCipheriv('aes-256-ctr', seed, new Uint8Array(16)).update(new Uint8Array(4)).readUInt32LE(0);
    for (const bits of [1, 13, 31, 32]) {
      const acc = new Uint32Array(1);
      prgAddInPlace(acc, seed, bits, 1);
      expect(acc[0]).toBe(first % 2 ** bits);
      prgAddInPlace(acc, seed, bits, -1);
      expect(acc[0]).toBe(0);
    }
  });
});
