import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prgAccumulate, prgExpand, prgRandomSource, toHex } from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

/** Reference: keystream via one cipher call, read with DataView little-endian, masked. */
function reference(seed: Uint8Array, length: number, bits: number): Uint32Array {
  const ks = createCipheriv('chacha20', seed, new Uint8Array(16)).update(new Uint8Array(4 * length));
  const dv = new DataView(ks.buffer, ks.byteOffset, ks.length);
  const out = new Uint32Array(length);
  for (let i = 0; i < length; i++) out[i] = bits === 32 ? dv.getUint32(4 * i, true) : dv.getUint32(4 * i, true) % 2 ** bits;
  return out;
}

const seed32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const bitsArb = fc.integer({ min: 1, max: 32 });

describe('prgExpand', () => {
  it('is ChaCha20 (RFC 8439) with a zero nonce and counter, words little-endian, reduced mod 2^bits', () => {
    fc.assert(
      fc.property(seed32, fc.integer({ min: 0, max: 300 }), bitsArb, (seed, len, bits) => {
        expect(Array.from(prgExpand(seed, len, bits))).toEqual(Array.from(reference(seed, len, bits)));
      }),
      { numRuns: 60 },
    );
  });

  it('streams across chunk boundaries (d just below, at and above 16384 and 32768 words)', () => {
    const seed = new Uint8Array(32).fill(3);
    for (const d of [16383, 16384, 16385, 32769]) {
      const a = prgExpand(seed, d, 32);
      const r = reference(seed, d, 32);
      expect(toHex(new Uint8Array(a.buffer))).toBe(toHex(new Uint8Array(r.buffer)));
    }
  });

  it('a prefix of a longer expansion equals the shorter expansion', () => {
    const seed = new Uint8Array(32).fill(5);
    expect(Array.from(prgExpand(seed, 20000, 17).subarray(0, 1000))).toEqual(Array.from(prgExpand(seed, 1000, 17)));
  });

  it('rejects bad seeds, lengths and bit widths', () => {
    expectCode(() => prgExpand(new Uint8Array(31), 4, 32), 'prg/bad-seed');
    expectCode(() => prgExpand(new Uint8Array(32), -1, 32), 'prg/bad-length');
    expectCode(() => prgExpand(new Uint8Array(32), 1.5, 32), 'prg/bad-length');
    expectCode(() => prgExpand(new Uint8Array(32), 4, 0), 'zmod/bad-bits');
    expectCode(() => prgExpand(new Uint8Array(32), 4, 33), 'zmod/bad-bits');
  });
});

describe('prgAccumulate', () => {
  it('adds (+1) or subtracts (−1) the stream mod 2^bits, and the two cancel', () => {
    fc.assert(
      fc.property(seed32, fc.integer({ min: 0, max: 200 }), bitsArb, fc.constantFrom<1 | -1>(1, -1), (seed, len, bits, sign) => {
        const acc = new Uint32Array(len).map((_, i) => (i * 2654435761) % 2 ** bits);
        const before = Uint32Array.from(acc);
        prgAccumulate(acc, [{ seed, sign }], bits);
        const r = reference(seed, len, bits);
        for (let i = 0; i < len; i++) {
          const want = (((before[i] as number) + sign * (r[i] as number)) % 2 ** bits + 2 ** bits) % 2 ** bits;
          expect(acc[i]).toBe(want);
        }
        prgAccumulate(acc, [{ seed, sign: sign === 1 ? -1 : 1 }], bits);
        expect(Array.from(acc)).toEqual(Array.from(before));
      }),
      { numRuns: 60 },
    );
  });

  it('rejects a bad accumulator, seed or sign', () => {
    expectCode(() => prgAccumulate([1, 2] as unknown as Uint32Array, [{ seed: new Uint8Array(32), sign: 1 }], 32), 'prg/bad-vector');
    expectCode(() => prgAccumulate(new Uint32Array(2), [{ seed: new Uint8Array(16), sign: 1 }], 32), 'prg/bad-seed');
    expectCode(() => prgAccumulate(new Uint32Array(2), [{ seed: new Uint8Array(32), sign: 0 as unknown as 1 }], 32), 'prg/bad-sign');
  });
});

describe('prgRandomSource', () => {
  it('yields the raw keystream bytes in order, however the reads are split', () => {
    const seed = new Uint8Array(32).fill(8);
    const whole = reference(seed, 16, 32);
    const src = prgRandomSource(seed);
    const parts = [src.fill(new Uint8Array(5)), src.fill(new Uint8Array(0)), src.fill(new Uint8Array(59))];
    const joined = new Uint8Array(64);
    joined.set(parts[0] as Uint8Array, 0);
    joined.set(parts[2] as Uint8Array, 5);
    expect(toHex(joined)).toBe(toHex(new Uint8Array(whole.buffer)));
  });
});
