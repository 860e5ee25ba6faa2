import { describe, expect, it } from 'vitest';
import { logGamma } from '../../src/dp/special.js';
import {
  SKELLAM_TABLE_MAX_MEAN,
  SKELLAM_TABLE_TAIL,
  sampleSkellam,
  skellamLogTailBound,
  skellamNoise,
  skellamPmf,
  skellamSampler,
  skellamSamples,
} from '../../src/dp/noise/skellam.js';
import { UniformStream } from '../../src/dp/noise/uniform-stream.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { moments } from './moments.js';
import { gammaQ } from './goodness-of-fit.js';

/*
 * The Skellam sampler inverts a table of P(k) = e^{-2μ} I_|k|(2μ) computed by Miller's backward
 * recurrence, with the two-Poisson sampler beyond the table. The table is checked against values
 * computed independently (mpmath, and a direct series in this file), the samples against the pmf
 * (chi-square goodness of fit, mean and variance), and the table's fallback against the mixture
 * it must produce.
 */

/**
 * P(S = k) by the direct series e^{-2μ} I_k(2μ) = Σ_m e^{-2μ} μ^{2m+k} / (m! (m+k)!) (the
 * convolution of two Poisson(μ) pmfs), summed in log space over every term within e^-60 of the
 * largest. Independent of the recurrence; its error is that of log-gamma on terms of size ~μ log μ.
 */
function seriesPmf(mu: number, k: number): number {
  const a = Math.abs(k);
  const logTerm = (m: number): number => -2 * mu + (2 * m + a) * Math.log(mu) - logGamma(m + 1) - logGamma(m + a + 1);
  // The terms peak near m = (√(a² + 4μ²) − a)/2.
  const peak = Math.max(0, Math.round((Math.sqrt(a * a + 4 * mu * mu) - a) / 2));
  const top = logTerm(peak);
  let sum = 0;
  for (let m = peak; ; m++) {
    const t = logTerm(m) - top;
    sum += Math.exp(t);
    if (t < -60) break;
  }
  for (let m = peak - 1; m >= 0; m--) {
    const t = logTerm(m) - top;
    sum += Math.exp(t);
    if (t < -60) break;
  }
  return Math.exp(top) * sum;
}


/**
 * Pearson's chi-square test of integer samples against probabilities `prob(k)` on [lo, hi]: the
 * values are grouped, left to right, into bins of expected count >= 50 (everything below lo and
 * above hi joins the end bins). Returns the p-value and the number of bins.
 */
function chiSquare(samples: ArrayLike<number>, prob: (k: number) => number, lo: number, hi: number): { p: number; bins: number } {
  const counts = new Map<number, number>();
  for (let i = 0; i < samples.length; i++) {
    const k = Math.min(hi, Math.max(lo, samples[i] as number));
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const n = samples.length;
  const bins: { expected: number; observed: number }[] = [];
  let e = 0;
  let o = 0;
  for (let k = lo; k <= hi; k++) {
    e += n * prob(k);
    o += counts.get(k) ?? 0;
    if (e >= 50) {
      bins.push({ expected: e, observed: o });
      e = 0;
      o = 0;
    }
  }
  const last = bins[bins.length - 1]!;
  last.expected += e;
  last.observed += o;
  let stat = 0;
  for (const b of bins) stat += (b.observed - b.expected) ** 2 / b.expected;
  return { p: gammaQ((bins.length - 1) / 2, stat / 2), bins: bins.length };
}

function draws(n: number, draw: (u: UniformStream) => number, seed: string): Float64Array {
  const u = new UniformStream(seededRandom(seed));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = draw(u);
  return out;
}

describe('Skellam pmf table (Miller recurrence for e^{-2μ} I_k(2μ))', () => {
  // e^{-2μ} I_k(2μ) from mpmath 1.3 (besseli at 50 significant digits), rounded to the nearest double.
  const known: [number, number, number][] = [
    [0.05, 0, 0.9071009257823011],
    [0.05, 1, 0.045298446808809324],
    [0.05, 5, 2.357329429578214e-09],
    [0.05, 10, 2.4356016783441053e-20],
    [0.5, 0, 0.46575960759364043],
    [0.5, 3, 0.008155307772814294],
    [0.5, 17, 8.001229764704119e-21],
    [3, 0, 0.16665743263981658],
    [3, 1, 0.1520514593085059],
    [3, 7, 0.003115588347658118],
    [3, 30, 2.568803076603048e-21],
    [40, 0, 0.044673291782275276],
    [40, 9, 0.026855497219359186],
    [40, 88, 1.4108545485649276e-21],
    [1000, 0, 0.00892117827643967],
    [1000, 45, 0.005376689158981516],
    [1000, 425, 2.5546486360842813e-22],
    [1e5, 0, 0.00089206261561674],
    [1e5, 447, 0.0005413211827384902],
    [1e5, 4245, 2.4326929065052634e-23],
    [838860.8, 0, 0.00030799959838967835],
    [838860.8, 1295, 0.00018684996299514971],
    [838860.8, 10362, 3.904567778015382e-18],
  ];

  it.each(known)('Sk(%d): P(±%d) matches mpmath to 1e-14 relative', (mu, k, want) => {
    const { half, pmf } = skellamPmf(mu);
    expect(k).toBeLessThanOrEqual(half);
    for (const kk of [k, -k]) expect(Math.abs((pmf[half + kk] as number) / want - 1)).toBeLessThan(1e-14);
  });

  it.each([0.05, 0.5, 3, 40, 1000, 1e5])('Sk(%d): every entry matches the direct series sum, and the whole pmf sums to 1', (mu) => {
    const { half, pmf, tailMass } = skellamPmf(mu);
    // The series in log space carries an absolute log error of ~1e-16·μ log μ.
    const tol = 1e-13 + 4e-16 * mu * Math.log(2 + mu);
    const step = Math.max(1, Math.floor(half / 200));
    for (let k = 0; k <= half; k += step) {
      const want = seriesPmf(mu, k);
      expect(Math.abs((pmf[half + k] as number) / want - 1), `k = ${k}`).toBeLessThan(tol);
    }
    let sum = tailMass;
    for (const p of pmf) sum += p;
    expect(Math.abs(sum - 1)).toBeLessThan(1e-14);
    expect(tailMass).toBeLessThanOrEqual(SKELLAM_TABLE_TAIL);
    expect(tailMass).toBeGreaterThan(0);
  });

  it('is symmetric, decreasing away from 0, and the point mass at 0 for a negligible mean', () => {
    const { half, pmf } = skellamPmf(7.5);
    for (let k = 1; k <= half; k++) {
      expect(pmf[half + k]).toBe(pmf[half - k]);
      expect(pmf[half + k]!).toBeLessThan(pmf[half + k - 1]!);
    }
    expect(Array.from(skellamPmf(1e-30).pmf)).toEqual([1]);
    expect(Array.from(skellamPmf(0).pmf)).toEqual([1]);
  });

  it('the table half-width h leaves P(|S| > h) <= 2^-64 by the Chernoff bound, and not much less', () => {
    for (const mu of [1e-10, 0.05, 3, 1000, 1e7]) {
      const { half } = skellamPmf(mu);
      expect(Math.log(2) + skellamLogTailBound(mu, half + 1)).toBeLessThanOrEqual(Math.log(SKELLAM_TABLE_TAIL));
      if (half > 0) expect(Math.log(2) + skellamLogTailBound(mu, half)).toBeGreaterThan(Math.log(SKELLAM_TABLE_TAIL));
    }
    // The bound is a bound: the series tail beyond a small h is below it.
    for (const mu of [0.5, 3, 40]) {
      for (const h of [2, 5, 10]) {
        let tail = 0;
        for (let k = h; k < h + 400; k++) tail += seriesPmf(mu, k);
        expect(tail).toBeLessThanOrEqual(Math.exp(skellamLogTailBound(mu, h)) * (1 + 1e-12));
      }
    }
  });
});

describe('Skellam sampler', () => {
  const N = 400_000;

  it.each([0.5, 3, 40, 1000, 1e5, 838860.8, 2e8])('Sk(%d) samples pass a chi-square test against the pmf', (mu) => {
    const draw = skellamSampler(mu);
    const xs = draws(N, draw, `chi2-${mu}`);
    const { half, pmf } = skellamPmf(mu);
    const prob = (k: number): number => (Math.abs(k) <= half ? (pmf[half + k] as number) : 0);
    const sd = Math.sqrt(2 * mu);
    const { p, bins } = chiSquare(xs, prob, -Math.ceil(6 * sd + 10), Math.ceil(6 * sd + 10));
    expect(bins).toBeGreaterThan(mu < 1 ? 3 : 10);
    // A correct sampler fails this with probability 1e-6 (and, with a fixed seed, never here).
    expect(p).toBeGreaterThan(1e-6);
  });

  it.each([0.3, 5, 400, 1e6, 1e7, SKELLAM_TABLE_MAX_MEAN, 1e9])('Sk(%d) has mean 0 and variance 2μ', (mu) => {
    const xs = skellamSamples(mu, N, seededRandom(`moments-${mu}`));
    const { mean, variance } = moments(xs);
    const v = 2 * mu;
    // Standard errors: of the mean √(v/N); of the variance √((μ4 − v²)/N), μ4 = 3v² + v for Skellam.
    expect(Math.abs(mean)).toBeLessThan(6 * Math.sqrt(v / N));
    expect(Math.abs(variance - v)).toBeLessThan(6 * Math.sqrt((2 * v * v + v) / N));
    expect(xs.every((x) => Number.isInteger(x))).toBe(true);
  });

  it('vector noise makes the same draws as the one-draw sampler, in place and wrapped', () => {
    for (const [mu, tail] of [
      [838860.8, SKELLAM_TABLE_TAIL],
      [3, SKELLAM_TABLE_TAIL],
      [3, 0.2], // a narrow table: many draws fall back to two Poisson draws
      [2e8, SKELLAM_TABLE_TAIL], // above the table's range: two Poisson draws throughout
    ] as const) {
      // 70 000 coordinates span several 64 KiB stream blocks.
      const n = 70_000;
      const noise = skellamNoise(mu, tail)!;
      const single = skellamSampler(mu, tail);
      const one = draws(n, single, `same-${mu}-${tail}`);
      const x = new Float64Array(n).map((_, i) => (i % 7) - 3);
      const inPlace = x.slice();
      noise.addInPlace(inPlace, new UniformStream(seededRandom(`same-${mu}-${tail}`)));
      expect(Array.from(inPlace)).toEqual(Array.from(x, (v, i) => v + (one[i] as number)));
      const wrapped = new Uint32Array(n);
      noise.addAndWrap(x, new UniformStream(seededRandom(`same-${mu}-${tail}`)), 0xffff, wrapped);
      expect(Array.from(wrapped)).toEqual(Array.from(inPlace, (v) => v & 0xffff));
    }
  });

  it('falls back to two Poisson draws beyond the table: with a narrow table the output is exactly the documented mixture', () => {
    // Table on [−h, h] holding P(k); a uniform beyond its last CDF entry F(h) draws S' ~ Sk(μ)
    // afresh, so P(out = k) = P(k)·[|k| <= h] + (1 − F(h))·P(k).
    const mu = 3;
    const tail = 0.05;
    const { half, pmf } = skellamPmf(mu, tail);
    let inside = 0;
    for (const p of pmf) inside += p;
    expect(1 - inside).toBeGreaterThan(0.005);
    const full = skellamPmf(mu);
    const P = (k: number): number => (Math.abs(k) <= full.half ? (full.pmf[full.half + k] as number) : 0);
    const mixture = (k: number): number => (Math.abs(k) <= half ? P(k) : 0) + (1 - inside) * P(k);
    const xs = draws(N, skellamSampler(mu, tail), 'narrow');
    expect(xs.some((x) => Math.abs(x) > half)).toBe(true);
    expect(chiSquare(xs, mixture, -25, 25).p).toBeGreaterThan(1e-6);
    // The fallback itself is the exact two-Poisson sampler.
    expect(chiSquare(draws(N, (u) => sampleSkellam(mu, u), 'two-poisson'), P, -25, 25).p).toBeGreaterThan(1e-6);
  });
});
