import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng } from '../../src/trainer/rng.js';

describe('createRng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    const sb = Array.from({ length: 8 }, () => b.nextUint32());
    const sc = Array.from({ length: 8 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(new Set(sa).size).toBe(8);
  });

  it('gives floats in [0, 1) with mean near 1/2 and ints within bounds', () => {
    const r = createRng(7);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const f = r.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      sum += f;
    }
    expect(sum / 20000).toBeGreaterThan(0.49);
    expect(sum / 20000).toBeLessThan(0.51);
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 10000; i++) counts[r.nextInt(5)]! += 1;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200);
  });

  it('draws gamma with the right mean and Dirichlet vectors on the simplex', () => {
    const r = createRng(3);
    for (const shape of [0.1, 1, 5]) {
      let s = 0;
      for (let i = 0; i < 5000; i++) s += r.nextGamma(shape);
      expect(Math.abs(s / 5000 - shape)).toBeLessThan(0.1 * shape + 0.02);
    }
    const p = r.nextDirichlet(10, 0.1);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Math.max(...p)).toBeGreaterThan(0.3); // α = 0.1 concentrates mass on few categories
  });

  it('shuffles into a permutation', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 200 }), (seed, n) => {
        const xs = Array.from({ length: n }, (_, i) => i);
        createRng(seed).shuffle(xs);
        expect([...xs].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });

  it('rejects a non-finite seed and bad bounds', () => {
    expect(() => createRng(NaN)).toThrow(expect.objectContaining({ code: 'trainer/bad-seed' }));
    expect(() => createRng(1).nextInt(0)).toThrow(expect.objectContaining({ code: 'trainer/bad-range' }));
    expect(() => createRng(1).nextGamma(-1)).toThrow(expect.objectContaining({ code: 'trainer/bad-range' }));
  });
});
