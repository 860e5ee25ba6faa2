import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMod, packBits, packedLength, subMod, unpackBits } from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

const ALL_BITS = Array.from({ length: 32 }, (_, i) => i + 1);

/** Vectors of values already reduced mod 2^bits. */
function vec(bits: number, maxLength = 64): fc.Arbitrary<Uint32Array> {
  return fc
    .array(fc.integer({ min: 0, max: 2 ** bits - 1 }), { maxLength })
    .map((a) => Uint32Array.from(a));
}

describe('addMod / subMod', () => {
  it.each(ALL_BITS)('bits=%i: matches exact integer arithmetic and round-trips', (bits) => {
    const m = 2 ** bits;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: m - 1 }), fc.integer({ min: 0, max: m - 1 })), { maxLength: 40 }),
        (pairs) => {
          const n = pairs.length;
          const a = Uint32Array.from(pairs, (p) => p[0]);
          const b = Uint32Array.from(pairs, (p) => p[1]);
          const acc = Uint32Array.from(a);
          addMod(acc, b, bits);
          for (let i = 0; i < n; i++) expect(acc[i]).toBe(((a[i] as number) + (b[i] as number)) % m);
          subMod(acc, b, bits);
          expect(Array.from(acc)).toEqual(Array.from(a));
          subMod(acc, b, bits);
          for (let i = 0; i < n; i++) expect(acc[i]).toBe((((a[i] as number) - (b[i] as number)) % m + m) % m);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('reduces unreduced inputs as if they had been reduced first', () => {
    const acc = new Uint32Array([0xffffffff, 300]);
    addMod(acc, new Uint32Array([1, 0xfffffff0]), 8);
    expect(Array.from(acc)).toEqual([0, (300 + 0xfffffff0) % 256]);
  });

  it('rejects mismatched lengths, non-Uint32Array operands and bad bit widths', () => {
    expectCode(() => addMod(new Uint32Array(2), new Uint32Array(3), 8), 'zmod/length-mismatch');
    expectCode(() => subMod(new Uint32Array(2), new Uint32Array(3), 8), 'zmod/length-mismatch');
    expectCode(() => addMod(new Uint32Array(2), new Int32Array(2) as unknown as Uint32Array, 8), 'zmod/bad-vector');
    expectCode(() => addMod(new Uint32Array(2), new Uint32Array(2), 0), 'zmod/bad-bits');
    expectCode(() => subMod(new Uint32Array(2), new Uint32Array(2), 33), 'zmod/bad-bits');
    expectCode(() => addMod(new Uint32Array(2), new Uint32Array(2), 7.5), 'zmod/bad-bits');
  });
});

describe('packBits / unpackBits', () => {
  it.each(ALL_BITS)('bits=%i: round-trips and has length ceil(n·bits/8)', (bits) => {
    fc.assert(
      fc.property(vec(bits, 80), (v) => {
        const packed = packBits(v, bits);
        expect(packed.length).toBe(Math.ceil((v.length * bits) / 8));
        expect(packed.length).toBe(packedLength(v.length, bits));
        expect(Array.from(unpackBits(packed, v.length, bits))).toEqual(Array.from(v));
      }),
      { numRuns: 30 },
    );
  });

  it.each(ALL_BITS)('bits=%i: stream bit j is bit j mod 8 of byte j/8, values LSB first', (bits) => {
    fc.assert(
      fc.property(vec(bits, 20), (v) => {
        const packed = packBits(v, bits);
        for (let i = 0; i < v.length; i++) {
          for (let k = 0; k < bits; k++) {
            const j = i * bits + k;
            const bit = ((packed[j >> 3] as number) >> (j & 7)) & 1;
            expect(bit).toBe(Math.floor((v[i] as number) / 2 ** k) % 2);
          }
        }
      }),
      { numRuns: 10 },
    );
  });

  it('known layouts: 3-bit values and 32-bit little-endian words', () => {
    // 5 = 101, 3 = 011, 7 = 111 → stream bits 1,0,1, 1,1,0, 1,1,1 → byte0 = 0b11011101, byte1 = 0b1
    expect(Array.from(packBits(new Uint32Array([5, 3, 7]), 3))).toEqual([0xdd, 0x01]);
    expect(Array.from(packBits(new Uint32Array([0x01020304]), 32))).toEqual([4, 3, 2, 1]);
  });

  it('rejects values that do not fit, wrong sizes and non-zero padding', () => {
    expectCode(() => packBits(new Uint32Array([8]), 3), 'zmod/value-out-of-range');
    expectCode(() => packBits(new Uint32Array([0, 1 << 20]), 20), 'zmod/value-out-of-range');
    expectCode(() => packBits([1] as unknown as Uint32Array, 3), 'zmod/bad-vector');
    expectCode(() => packBits(new Uint32Array(1), 0), 'zmod/bad-bits');
    expectCode(() => unpackBits(new Uint8Array(3), 3, 3), 'zmod/bad-packed-length');
    expectCode(() => unpackBits(new Uint8Array(3), 3, 5), 'zmod/bad-packed-length');
    expectCode(() => unpackBits(new Uint8Array([0xff, 0x02]), 3, 3), 'zmod/nonzero-padding');
    expectCode(() => unpackBits(new Uint8Array(4), -1, 8), 'zmod/bad-length');
    expectCode(() => unpackBits(new Uint8Array(4), 4, 40), 'zmod/bad-bits');
  });
});
