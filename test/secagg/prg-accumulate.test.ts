import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prgAccumulate, type MaskStream } from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

/*
 * prgAccumulate walks the accumulator in 16384-word chunks, adds the streams' keystream chunks with
 * a SIMD kernel over 16-word blocks (the last chunk padded), four streams of one sign per kernel call
 * and the rest one by one, and opens at most 256 ciphers per pass.
 * These tests pin every one of those boundaries to a deliberately plain reference: each whole
 * keystream from one cipher call, words read with DataView, and the modular sum computed in exact
 * double arithmetic, one stream after another.
 */

const CHUNK_WORDS = 16384;
const STREAMS_PER_PASS = 256;

function referenceAdd(acc: Uint32Array, streams: readonly MaskStream[], bits: number): Uint32Array {
  const mod = 2 ** bits;
  const out = Uint32Array.from(acc, (x) => x % mod);
  for (const { seed, sign } of streams) {
    const ks = createCipheriv('chacha20', seed, new Uint8Array(16)).update(new Uint8Array(4 * acc.length));
    const dv = new DataView(ks.buffer, ks.byteOffset, ks.length);
    for (let i = 0; i < acc.length; i++) {
      const word = dv.getUint32(4 * i, true) % mod;
      out[i] = ((((out[i] as number) + sign * word) % mod) + mod) % mod;
    }
  }
  return out;
}

/** First index where a and b differ, or −1 (keeps failure messages short for long vectors). */
function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Lengths around every boundary the implementation has: empty, the 16-word SIMD block, the chunk. */
const lengthArb = fc.oneof(
  fc.constantFrom(0, 1, 3, 4, 5, 15, 16, 17, 31, 33, CHUNK_WORDS - 1, CHUNK_WORDS, CHUNK_WORDS + 1, 2 * CHUNK_WORDS + 3),
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: CHUNK_WORDS - 20, max: 2 * CHUNK_WORDS + 20 }),
);
const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const signArb = fc.constantFrom<1 | -1>(1, -1);
const streamArb = fc.record({ seed: seedArb, sign: signArb });
// Up to 11 streams: full groups of four of either sign and every remainder.
const streamsArb = fc.array(streamArb, { minLength: 1, maxLength: 11 });
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

describe('prgAccumulate against a plain reference', () => {
  it('matches for every bit width 1..32 and both signs, over lengths around the block and chunk sizes', () => {
    for (let bits = 1; bits <= 32; bits++) {
      fc.assert(
        fc.property(streamsArb, lengthArb, fillArb, (streams, length, start) => {
          const acc = filled(length, start);
          const want = referenceAdd(acc, streams, bits);
          prgAccumulate(acc, streams, bits);
          expect(firstDifference(acc, want), `bits=${bits} streams=${streams.length} length=${length}`).toBe(-1);
        }),
        { numRuns: 5 },
      );
    }
  });

  it('matches on an accumulator that is a view at a nonzero offset into a larger buffer', () => {
    fc.assert(
      fc.property(streamsArb, lengthArb, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 32 }), (streams, length, offset, bits) => {
        const backing = filled(length + offset + 5, 42);
        const before = Uint32Array.from(backing);
        const acc = backing.subarray(offset, offset + length);
        const want = referenceAdd(acc, streams, bits);
        prgAccumulate(acc, streams, bits);
        expect(firstDifference(acc, want)).toBe(-1);
        // Words outside the view are untouched.
        expect(Array.from(backing.subarray(0, offset))).toEqual(Array.from(before.subarray(0, offset)));
        expect(Array.from(backing.subarray(offset + length))).toEqual(Array.from(before.subarray(offset + length)));
      }),
      { numRuns: 40 },
    );
  });

  it('is the same as one call per stream, in any grouping and order', () => {
    fc.assert(
      fc.property(fc.array(streamArb, { minLength: 0, maxLength: 8 }), fc.integer({ min: 0, max: 3 * CHUNK_WORDS }), fc.integer({ min: 1, max: 32 }), (streams, length, bits) => {
        const together = filled(length, 7).map((x) => x % 2 ** bits);
        const oneByOne = Uint32Array.from(together);
        prgAccumulate(together, streams, bits);
        for (const s of [...streams].reverse()) prgAccumulate(oneByOne, [s], bits);
        expect(firstDifference(together, oneByOne)).toBe(-1);
      }),
      { numRuns: 30 },
    );
  });

  it('handles more streams than one pass opens at once', () => {
    const streams: MaskStream[] = Array.from({ length: STREAMS_PER_PASS + 3 }, (_, i) => ({
      seed: new Uint8Array(32).fill(i % 251).map((b, j) => b ^ j ^ (i >> 8)),
      sign: i % 3 === 0 ? -1 : 1,
    }));
    for (const length of [5, CHUNK_WORDS + 9]) {
      const acc = filled(length, 3);
      const want = referenceAdd(acc, streams, 32);
      prgAccumulate(acc, streams, 32);
      expect(firstDifference(acc, want)).toBe(-1);
    }
  });

  it('masks added with +1 and removed with −1 cancel exactly', () => {
    fc.assert(
      fc.property(streamsArb, fc.integer({ min: 0, max: 2 * CHUNK_WORDS }), fc.integer({ min: 1, max: 32 }), (streams, length, bits) => {
        const acc = filled(length, 11).map((x) => x % 2 ** bits);
        const before = Uint32Array.from(acc);
        prgAccumulate(acc, streams, bits);
        prgAccumulate(acc, streams.map((s) => ({ seed: s.seed, sign: s.sign === 1 ? -1 : 1 })), bits);
        expect(firstDifference(acc, before)).toBe(-1);
      }),
      { numRuns: 20 },
    );
  });

  it('with no streams only reduces the accumulator mod 2^bits', () => {
    const acc = Uint32Array.from([0xffffffff, 5, 0x80000001]);
    prgAccumulate(acc, [], 32);
    expect(Array.from(acc)).toEqual([0xffffffff, 5, 0x80000001]);
    prgAccumulate(acc, [], 4);
    expect(Array.from(acc)).toEqual([15, 5, 1]);
  });

  it('accepts an empty accumulator but still validates the other arguments', () => {
    const acc = new Uint32Array(0);
    const seed = new Uint8Array(32).fill(1);
    expect(() => prgAccumulate(acc, [{ seed, sign: 1 }], 32)).not.toThrow();
    expectCode(() => prgAccumulate(acc, [{ seed: new Uint8Array(31), sign: 1 }], 32), 'prg/bad-seed');
    expectCode(() => prgAccumulate(acc, [{ seed, sign: 1 }], 0), 'zmod/bad-bits');
    expectCode(() => prgAccumulate(acc, [{ seed, sign: 2 as unknown as 1 }], 32), 'prg/bad-sign');
    expectCode(() => prgAccumulate(acc, [null as unknown as MaskStream], 32), 'prg/bad-streams');
    expectCode(() => prgAccumulate(acc, 'x' as unknown as MaskStream[], 32), 'prg/bad-streams');
  });

  it('validates every stream before touching the accumulator', () => {
    const acc = Uint32Array.from([1, 2, 3]);
    expectCode(() => prgAccumulate(acc, [{ seed: new Uint8Array(32), sign: 1 }, { seed: new Uint8Array(8), sign: 1 }], 32), 'prg/bad-seed');
    expect(Array.from(acc)).toEqual([1, 2, 3]);
  });

  it('a single word is the first keystream word, reduced', () => {
    const seed = new Uint8Array(32).fill(9);
    const first = createCipheriv('chacha20', seed, new Uint8Array(16)).update(new Uint8Array(4)).readUInt32LE(0);
    for (const bits of [1, 13, 31, 32]) {
      const acc = new Uint32Array(1);
      prgAccumulate(acc, [{ seed, sign: 1 }], bits);
      expect(acc[0]).toBe(first % 2 ** bits);
      prgAccumulate(acc, [{ seed, sign: -1 }], bits);
      expect(acc[0]).toBe(0);
    }
  });
});
