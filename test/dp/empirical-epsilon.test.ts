import { describe, expect, it } from 'vitest';
import {
  canaryDirection,
  canaryUpdate,
  cosine,
  estimateEmpiricalEpsilon,
  gaussianDelta,
  gaussianEpsilon,
  gaussianSamples,
  randomUnitDirection,
} from '../../src/dp/index.js';
import { seededRandom } from '../../src/secagg/index.js';
import { errorCode } from './error-code.js';

/**
 * One release of the Gaussian mechanism with `k` canaries in it: S = Σ C·u_k + N(0, σ² I), the
 * canaries' cosines with S and those of `nulls` fresh directions.
 */
function gaussianRelease(o: { dim: number; k: number; nulls: number; sigma: number; seed: string }) {
  const rng = seededRandom(o.seed);
  const s = gaussianSamples(o.sigma, o.dim, rng);
  const dirs = Array.from({ length: o.k }, () => randomUnitDirection(o.dim, rng));
  for (const u of dirs) for (let i = 0; i < o.dim; i++) s[i]! += u[i]!;
  const canary = dirs.map((u) => cosine(u, s));
  const nulls = Array.from({ length: o.nulls }, () => cosine(randomUnitDirection(o.dim, rng), s));
  return { canary, nulls };
}

describe('the Gaussian mechanism (μ-GDP)', () => {
  it('δ(ε) is the analytic Gaussian mechanism’s: μ = 1, ε = 1 gives Φ(−1/2) − e·Φ(−3/2)', () => {
    expect(gaussianDelta(1, 1)).toBeCloseTo(0.3085375387 - Math.E * 0.0668072013, 8);
  });

  it('ε(δ) inverts δ(ε), grows with μ and is 0 without signal', () => {
    for (const mu of [0.3, 1, 2.5, 8]) {
      const eps = gaussianEpsilon(mu, 1e-5);
      expect(gaussianDelta(mu, eps)).toBeLessThanOrEqual(1e-5);
      expect(gaussianDelta(mu, eps * 0.999)).toBeGreaterThan(1e-5);
    }
    expect(gaussianEpsilon(2, 1e-5)).toBeGreaterThan(gaussianEpsilon(1, 1e-5));
    expect(gaussianEpsilon(0, 1e-5)).toBe(0);
    expect(gaussianEpsilon(-1, 1e-5)).toBe(0);
  });
});

describe('canary directions', () => {
  it('are unit vectors fixed by their secret, different across secrets and nearly orthogonal', () => {
    const a = canaryDirection(new Uint8Array(32).fill(1), 4096);
    const b = canaryDirection(new Uint8Array(32).fill(2), 4096);
    expect(a.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 10);
    expect(canaryDirection(new Uint8Array(32).fill(1), 4096)).toEqual(a);
    expect(Math.abs(cosine(a, b))).toBeLessThan(5 / Math.sqrt(4096));
  });

  it('a canary update has norm just under C, so the clip leaves it whole', () => {
    const u = canaryUpdate(new Uint8Array(32).fill(3), 1000, 0.5);
    const norm = Math.sqrt(u.reduce((s, x) => s + x * x, 0));
    expect(norm).toBeLessThanOrEqual(0.5);
    expect(norm).toBeGreaterThan(0.5 * (1 - 1e-5));
  });

  it('refuses a short secret', () => {
    expect(errorCode(() => canaryDirection(new Uint8Array(8), 100))).toBe('dp/bad-audit');
  });
});

describe('estimateEmpiricalEpsilon', () => {
  const delta = 1e-5;
  const claimed = gaussianEpsilon(1, delta); // σ = C = 1: μ = 1

  it('an honest Gaussian release: the estimate sits near the true ε and the interval’s lower end below it', () => {
    const { canary, nulls } = gaussianRelease({ dim: 4000, k: 200, nulls: 1000, sigma: 1, seed: 'honest' });
    const est = estimateEmpiricalEpsilon(canary, nulls, { delta, rng: seededRandom('bootstrap') });
    expect(est.lower).toBeLessThanOrEqual(claimed);
    expect(est.lower).toBeLessThanOrEqual(est.epsilon);
    expect(est.epsilon).toBeLessThanOrEqual(est.upper);
    expect(est.mu).toBeGreaterThan(0.8);
    expect(est.mu).toBeLessThan(1.1);
  });

  it('a release with a quarter of the noise: the lower end of the interval exceeds the claimed ε', () => {
    const { canary, nulls } = gaussianRelease({ dim: 4000, k: 200, nulls: 1000, sigma: 0.25, seed: 'under-noised' });
    const est = estimateEmpiricalEpsilon(canary, nulls, { delta, rng: seededRandom('bootstrap') });
    expect(est.lower).toBeGreaterThan(claimed);
  });

  it('nothing inserted: the estimate is about 0', () => {
    const rng = seededRandom('no-canary');
    const s = gaussianSamples(1, 2000, rng);
    const canary = Array.from({ length: 100 }, () => cosine(randomUnitDirection(2000, rng), s));
    const nulls = Array.from({ length: 500 }, () => cosine(randomUnitDirection(2000, rng), s));
    const est = estimateEmpiricalEpsilon(canary, nulls, { delta, rng: seededRandom('b') });
    expect(est.lower).toBe(0);
    expect(est.epsilon).toBeLessThan(1.5);
  });

  it('refuses too few cosines and a degenerate null', () => {
    expect(errorCode(() => estimateEmpiricalEpsilon([0.1], [0, 0.1], { delta, rng: seededRandom(1) }))).toBe('dp/bad-audit');
    expect(errorCode(() => estimateEmpiricalEpsilon([0.1, 0.2], [0, 0], { delta, rng: seededRandom(1) }))).toBe('dp/bad-audit');
  });
});
