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
import { studentTCdf, studentTQuantile } from '../../src/dp/special.js';
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

  it('with 8 canaries and 80 nulls, an honest release is refuted at most about as often as the confidence says', () => {
    // Cosines as the Gaussian model has them: canaries N(μ·s, s²), nulls N(0, s²). A percentile
    // bootstrap refutes the truth in about 6% of such runs at a nominal 2.5%; μ ± t·se must not.
    const rng = seededRandom('coverage');
    const trueMu = 1.5;
    const claim = gaussianEpsilon(trueMu, delta);
    let refuted = 0;
    const trials = 400;
    for (let i = 0; i < trials; i++) {
      const canary = gaussianSamples(1, 8, rng).map((x) => 0.01 * (x + trueMu));
      const nulls = gaussianSamples(1, 80, rng).map((x) => 0.01 * x);
      const est = estimateEmpiricalEpsilon(canary, nulls, { delta, rng, bootstrap: 400 });
      if (est.lower > claim) refuted++;
    }
    expect(refuted / trials).toBeLessThan(0.045);
  });

  it('a higher confidence widens the interval', () => {
    const { canary, nulls } = gaussianRelease({ dim: 2000, k: 8, nulls: 80, sigma: 1, seed: 'wide' });
    const at95 = estimateEmpiricalEpsilon(canary, nulls, { delta, rng: seededRandom('x') });
    const at999 = estimateEmpiricalEpsilon(canary, nulls, { delta, rng: seededRandom('x'), confidence: 0.999 });
    expect(at999.muLower).toBeLessThan(at95.muLower);
    expect(at999.muUpper).toBeGreaterThan(at95.muUpper);
    expect(at999.mu).toBe(at95.mu);
  });

  it('refuses too few cosines and a degenerate null', () => {
    expect(errorCode(() => estimateEmpiricalEpsilon([0.1], [0, 0.1], { delta, rng: seededRandom(1) }))).toBe('dp/bad-audit');
    expect(errorCode(() => estimateEmpiricalEpsilon([0.1, 0.2], [0, 0], { delta, rng: seededRandom(1) }))).toBe('dp/bad-audit');
  });
});

describe("Student's t", () => {
  it('quantiles agree with published tables', () => {
    // scipy.stats.t.ppf
    const table: [number, number, number][] = [
      [0.975, 1, 12.706204736174707],
      [0.975, 7, 2.3646242515927844],
      [0.95, 2, 2.919985580355516],
      [0.975, 30, 2.0422724563012373],
      [0.999, 100, 3.173739493738783],
    ];
    for (const [p, nu, want] of table) expect(Math.abs(studentTQuantile(p, nu) - want) / want).toBeLessThan(1e-11);
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-2.3646242515927844, 11);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959963984540054, 5);
  });

  it('the CDF is the quantile’s inverse and symmetric', () => {
    for (const nu of [1, 3, 7.5, 40]) {
      for (const p of [0.001, 0.2, 0.5, 0.9, 0.9995]) expect(studentTCdf(studentTQuantile(p, nu), nu)).toBeCloseTo(p, 12);
      expect(studentTCdf(1.3, nu) + studentTCdf(-1.3, nu)).toBeCloseTo(1, 14);
    }
  });
});
