import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBelow, randomUnit, seededRandom, systemRandom } from '../src/secagg/util/random.js';
import { bytesEqual, fromHex, toHex } from '../src/secagg/util/bytes.js';
import { FedveilError } from '../src/secagg/util/errors.js';

describe('random sources', () => {
  it('seededRandom is deterministic and seed-sensitive', () => {
    const a = seededRandom(7).fill(new Uint8Array(100));
    const b = seededRandom(7).fill(new Uint8Array(100));
    const c = seededRandom(8).fill(new Uint8Array(100));
    expect(toHex(a)).toBe(toHex(b));
    expect(toHex(a)).not.toBe(toHex(c));
  });

  it('seededRandom gives the same stream whatever the read sizes', () => {
    const whole = seededRandom('s').fill(new Uint8Array(97));
    const r = seededRandom('s');
    const parts = [r.fill(new Uint8Array(31)), r.fill(new Uint8Array(1)), r.fill(new Uint8Array(65))];
    expect(toHex(Uint8Array.from(parts.flatMap((p) => [...p])))).toBe(toHex(whole));
  });

  it('systemRandom fills buffers larger than the getRandomValues limit', () => {
    const out = systemRandom.fill(new Uint8Array(200_000));
    // The chance that the last 64 KiB stayed all zero is nil.
    expect(out.subarray(150_000).some((x) => x !== 0)).toBe(true);
  });

  it('randomBelow stays in range and rejects bad bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer(), (n, seed) => {
        const x = randomBelow(seededRandom(seed), n);
        return Number.isInteger(x) && x >= 0 && x < n;
      }),
    );
    expect(() => randomBelow(systemRandom, 0)).toThrow(FedveilError);
    expect(() => randomBelow(systemRandom, 1.5)).toThrow(/bound must be an integer/);
  });

  it('randomUnit is in [0, 1)', () => {
    const r = seededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const u = randomUnit(r);
      expect(u >= 0 && u < 1).toBe(true);
    }
  });
});

describe('bytes', () => {
  it('hex round-trips', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => bytesEqual(fromHex(toHex(b)), b)));
  });
  it('fromHex rejects odd length and non-hex', () => {
    expect(() => fromHex('abc')).toThrow(/not a hex string/);
    expect(() => fromHex('zz')).toThrow(/not a hex string/);
  });
});
