import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReleasedModelAverage } from '../../src/trainer/model-average.js';

describe('ReleasedModelAverage', () => {
  it('weighs version t − k by β^k, normalised, from the first release on', () => {
    const a = new ReleasedModelAverage(0.5);
    expect(Array.from(a.add(Float32Array.of(4, -2)))).toEqual([4, -2]);
    // (0.5·4 + 1) / 1.5 = 2, (0.5·(−2) + 4) / 1.5 = 2
    expect(Array.from(a.add(Float32Array.of(1, 4)))).toEqual([2, 2]);
    // (0.25·4 + 0.5·1 + 1·7) / 1.75
    expect(a.add(Float32Array.of(7, 0))[0]).toBeCloseTo((0.25 * 4 + 0.5 * 1 + 7) / 1.75, 6);
    expect(a.versions).toBe(3);
  });

  it('is a convex combination of the releases: it never leaves their range, and a constant model is its own average', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.array(fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 20 }),
        (decay, versions) => {
          const a = new ReleasedModelAverage(decay);
          let avg: Float32Array = new Float32Array(3);
          for (const v of versions) avg = a.add(Float32Array.from(v));
          for (let i = 0; i < 3; i++) {
            const col = versions.map((v) => v[i]!);
            expect(avg[i]).toBeGreaterThanOrEqual(Math.min(...col) - 1e-3);
            expect(avg[i]).toBeLessThanOrEqual(Math.max(...col) + 1e-3);
          }
        },
      ),
    );
    const a = new ReleasedModelAverage(0.9);
    for (let t = 0; t < 10; t++) a.add(Float32Array.of(0.1, -3));
    expect(Array.from(a.current()).map((x) => Number(x.toFixed(5)))).toEqual([0.1, -3]);
  });

  it('shrinks the spread of noisy releases around a fixed model', () => {
    // Releases = optimum + independent noise: the average's error is about √((1 − β)/(1 + β)) of one release's.
    let seed = 7;
    const gauss = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const u = (seed + 1) / 2 ** 31;
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const v = (seed + 1) / 2 ** 31;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    const a = new ReleasedModelAverage(0.8);
    const d = 4000;
    let avg: Float32Array = new Float32Array(d);
    let last: Float32Array = new Float32Array(d);
    for (let t = 0; t < 60; t++) {
      last = Float32Array.from({ length: d }, () => gauss());
      avg = a.add(last);
    }
    const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    expect(rms(last)).toBeGreaterThan(0.9);
    expect(rms(avg) / rms(last)).toBeGreaterThan(0.28);
    expect(rms(avg) / rms(last)).toBeLessThan(0.38); // √(0.2/1.8) = 0.333
  });

  it('refuses a decay outside (0, 1), a change of length, and an average of nothing', () => {
    for (const bad of [0, 1, -0.1, 1.5, Number.NaN]) expect(() => new ReleasedModelAverage(bad)).toThrow(/decay must be in \(0, 1\)/);
    const a = new ReleasedModelAverage(0.5);
    expect(() => a.current()).toThrow(/no version added/);
    a.add(new Float32Array(3));
    expect(() => a.add(new Float32Array(4))).toThrow(/4 weights after 3/);
  });
});
