import { check } from '../../secagg/util/errors.js';
import type { RandomSource } from '../../secagg/util/random.js';
import { perCoordinateNoise, type IntegerNoise } from './integer-noise.js';
import { checkDeviationMean, checkMean, poissonDeviationSampler, samplePoissonDeviation } from './poisson.js';
import { UniformStream } from './uniform-stream.js';

/**
 * One draw of the symmetric Skellam distribution Sk(mu, mu) = Poisson(mu) - Poisson(mu):
 * mean 0, variance 2·mu. Sums of independent Skellams are Skellam (the means add), which is why
 * each of t contributors adding Sk(mu/t) yields exactly Sk(mu) in the sum.
 *
 * This is the exact two-Poisson sampler, no set-up: the difference of two draws of X − ⌊mu⌋
 * ({@link samplePoissonDeviation}; ⌊mu⌋ cancels, and the deviations stay exact integers for means
 * beyond 2^53). For many draws with one mean use {@link skellamSampler}, which falls back to it
 * beyond its table. mu <= 2^56 (`POISSON_DEVIATION_MAX_MEAN`).
 */
export function sampleSkellam(mu: number, u: UniformStream): number {
  return samplePoissonDeviation(mu, u) - samplePoissonDeviation(mu, u);
}

/** {@link sampleSkellam} with its PTRS set-up done once, for means above the table. */
function twoPoissonSampler(mu: number): (u: UniformStream) => number {
  const deviation = poissonDeviationSampler(mu);
  return (u) => deviation(u) - deviation(u);
}

/** The table leaves at most this much probability, P(|S| > h), to the fallback sampler. */
export const SKELLAM_TABLE_TAIL = 2 ** -64;

/** Up to this mean {@link skellamSampler} inverts a table (≈ 21√(2μ) entries); above it, two Poisson draws. */
export const SKELLAM_TABLE_MAX_MEAN = 1e8;

/**
 * log of the Chernoff bound on P(S >= k) for S ~ Sk(mu, mu), k >= 0: with x = 2mu and s = k/x,
 * E[e^{tS}] = exp(x(cosh t − 1)), minimised over t at t = asinh(s):
 * log P(S >= k) <= x(√(1 + s²) − 1) − k·asinh(s).
 */
export function skellamLogTailBound(mu: number, k: number): number {
  const x = 2 * mu;
  if (x === 0) return k > 0 ? -Infinity : 0;
  const s = k / x;
  // x(√(1+s²) − 1) = k·s/(√(1+s²) + 1) = k/(√(1 + 1/s²) + 1/s): no cancellation for small s, no
  // overflow for huge s (tiny μ), and 0 for k = 0.
  return k / (Math.hypot(1, 1 / s) + 1 / s) - k * Math.asinh(s);
}

/** The smallest h >= 0 with P(|S| > h) <= `tail` by {@link skellamLogTailBound} (both signs). */
export function skellamTableHalfWidth(mu: number, tail: number): number {
  const logTail = Math.log(tail / 2);
  const fits = (h: number): boolean => skellamLogTailBound(mu, h + 1) <= logTail;
  let hi = 1;
  while (!fits(hi)) {
    hi *= 2;
    check(hi < 2 ** 40, 'dp/bad-noise-parameter', `no Skellam table width for mean ${mu}`);
  }
  let lo = -1; // fits(lo) is false (P(|S| > -1) = 1), fits(hi) is true
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The Skellam pmf on [-half, half]: pmf[half + k] = P(S = k), normalised over all integers. */
export interface SkellamPmf {
  half: number;
  pmf: Float64Array;
  /** P(|S| > half), from the same computation. */
  tailMass: number;
}

/** Above this a Miller recurrence value is scaled down by 2^-600, so the recurrence never overflows. */
const RESCALE_ABOVE = 2 ** 600;

/** Below this x = 2μ, P(S ≠ 0) < x < 2^-300: the pmf is the point mass at 0 to double precision. */
const POINT_MASS_BELOW = 2 ** -300;

/**
 * The pmf of Sk(mu, mu) on [-half, half], half = {@link skellamTableHalfWidth}(mu, tail):
 * P(k) = e^{-2μ} I_|k|(2μ), I the modified Bessel function of the first kind.
 *
 * Miller's backward recurrence: with x = 2μ, the I_k(x) satisfy I_{k-1} = I_{k+1} + (2k/x)·I_k;
 * run downwards from y_{N+1} = 0, y_N = 1, the recurrence yields values proportional to I_k(x)
 * for k well below N (the other solution, K_k, dies out going down: the start
 * N = half + ⌈4√x⌉ + 64 leaves a relative error below e^-100 at k <= half). The scale is then
 * fixed by e^x = I_0(x) + 2 Σ_{k>=1} I_k(x), i.e. the pmf must sum to 1 — so neither e^{-x} nor
 * I_k(x) itself is ever formed, and nothing overflows for any μ: the values are scaled down by
 * 2^-600 whenever one exceeds 2^600 (terms far out may underflow to 0, harmlessly). Every step
 * adds two positive terms, so the relative error grows by at most ~2 ulps per step: below
 * 4(N − k)·2^-53 at k (~1e-11 at μ = 1e7), and that of the normalising sum is no larger.
 */
export function skellamPmf(mu: number, tail = SKELLAM_TABLE_TAIL): SkellamPmf {
  checkMean(mu, 'Skellam mean');
  const x = 2 * mu;
  const half = skellamTableHalfWidth(mu, tail);
  // 1 − P(0) = 1 − e^{-x} I_0(x) < x.
  if (x < POINT_MASS_BELOW) return { half: 0, pmf: Float64Array.of(1), tailMass: x };
  const N = half + Math.ceil(4 * Math.sqrt(x)) + 64;
  const y = new Float64Array(N + 2); // y[N + 1] = 0
  y[N] = 1;
  for (let k = N; k >= 1; k--) {
    const next = (y[k + 1] as number) + ((2 * k) / x) * (y[k] as number);
    y[k - 1] = next;
    if (next > RESCALE_ABOVE) for (let j = k - 1; j <= N; j++) y[j] = (y[j] as number) * 2 ** -600;
  }
  // Z = y_0 + 2 Σ_{k>=1} y_k, smallest terms first; likewise the mass beyond ±half.
  let outside = 0;
  for (let k = N; k > half; k--) outside += 2 * (y[k] as number);
  let z = outside;
  for (let k = half; k >= 1; k--) z += 2 * (y[k] as number);
  z += y[0] as number;
  const pmf = new Float64Array(2 * half + 1);
  for (let k = 0; k <= half; k++) {
    const p = (y[k] as number) / z;
    pmf[half + k] = p;
    pmf[half - k] = p;
  }
  return { half, pmf, tailMass: outside / z };
}

/** 2^26 and 2^-53: two stream words (w0 >>> 5, w1 >>> 6) make the 53-bit integer V of a unit() double V·2^-53. */
const TWO_POW_26 = 67108864;
const TWO_POW_MINUS_53 = 1.1102230246251565e-16;

/**
 * Index into the table of the integer uniform V = hi·2^26 + lo: the first i with c_i > V (n, the
 * sentinel's index, when V is beyond the table). The guide entry of V's cell is a lower bound;
 * one step is taken without a branch, +1 exactly when c_i <= V (V − c_i lies in (−2^53, 2^53),
 * so ⌊(V − c_i)·2^-53⌋ is 0 or −1); further steps are rare.
 */
function tableIndex(c: Float64Array, guide: Uint32Array, shift: number, hi: number, V: number): number {
  let i = guide[hi >>> shift] as number;
  i += 1 + Math.floor((V - (c[i] as number)) * TWO_POW_MINUS_53);
  while ((c[i] as number) <= V) i++;
  return i;
}

/**
 * Inversion of the Sk(mu, mu) CDF on [-h, h] (h = {@link skellamTableHalfWidth}), one 53-bit
 * uniform per draw, with the exact two-Poisson sampler beyond the table.
 *
 * The uniform is handled as the integer V in [0, 2^53) of `unit()` = V·2^-53, and the CDF as the
 * integers c_i = ⌈F(i − h)·2^53⌉, so that F(i − h) <= V·2^-53 exactly when c_i <= V. A guide
 * table of G = 2^g >= 2h + 1 cells (Chen & Asau 1974) holds, for each cell of V's top g bits, the
 * first i whose c_i exceeds the cell's start; a draw reads one guide entry, steps once without a
 * branch (the step is taken about a third of the time, so a branch would often be mispredicted),
 * and then scans on (rarely). A V at or above the last entry c_{2h} (probability P(|S| > h) plus
 * the table's rounding) is not clamped into the table: that coordinate gets a fresh draw from
 * {@link sampleSkellam} instead.
 */
class SkellamTable implements IntegerNoise {
  private readonly half: number;
  private readonly n: number;
  /** c_i = ⌈F(i − half)·2^53⌉ for i < n; c_n = 2^53 stops every scan. */
  private readonly c: Float64Array;
  private readonly guide: Uint32Array;
  /** Cell of V: its top log2(G) bits, i.e. (w0 >>> 5) >>> shift. */
  private readonly shift: number;

  constructor(
    private readonly mu: number,
    tail: number,
  ) {
    const { half, pmf } = skellamPmf(mu, tail);
    const n = pmf.length;
    this.half = half;
    this.n = n;
    // F by compensated (Neumaier) summation, so the CDF carries the pmf's precision.
    const c = new Float64Array(n + 1);
    let sum = 0;
    let carry = 0;
    for (let i = 0; i < n; i++) {
      const p = pmf[i] as number;
      const t = sum + p;
      carry += Math.abs(sum) >= p ? sum - t + p : p - t + sum;
      sum = t;
      // Capped at 2^53 (> every V): a sum that rounds above 1 must not exceed it.
      c[i] = Math.min(2 ** 53, Math.ceil((sum + carry) * 2 ** 53));
    }
    c[n] = 2 ** 53;
    let bits = 0;
    while (2 ** bits < n) bits++;
    const G = 2 ** bits;
    this.shift = 27 - bits;
    const guide = new Uint32Array(G);
    const cell = 2 ** (53 - bits);
    for (let g = 0, i = 0; g < G; g++) {
      while ((c[i] as number) <= g * cell) i++;
      guide[g] = i;
    }
    this.c = c;
    this.guide = guide;
  }

  /** One draw: the same as one coordinate of {@link addInPlace}. */
  draw(u: UniformStream): number {
    const V = u.unit() * 2 ** 53;
    const i = tableIndex(this.c, this.guide, this.shift, Math.floor(V / TWO_POW_26), V);
    return i < this.n ? i - this.half : sampleSkellam(this.mu, u);
  }

  addInPlace(x: Float64Array, u: UniformStream): void {
    this.run(x, u, 0, undefined);
  }

  addAndWrap(x: Float64Array, u: UniformStream, mask: number, out: Uint32Array): void {
    this.run(x, u, mask, out);
  }

  /**
   * x[i] + S_i for every i, into x (out undefined) or wrapped into out: reads the stream's words in
   * runs instead of calling unit() per coordinate, with the same doubles in the same order; at a
   * fallback it consumes exactly the words up to that coordinate's uniform before the
   * two-Poisson draw, so it makes the same draws as {@link draw} per coordinate.
   */
  private run(x: Float64Array, u: UniformStream, mask: number, out: Uint32Array | undefined): void {
    const len = x.length;
    const { n, half, c, guide, shift } = this;
    for (let i = 0; i < len; ) {
      const w = u.unitWords();
      const pairs = Math.min(len - i, w.length >>> 1);
      let j = 0;
      let k = n;
      for (; j < pairs; j++, i++) {
        const hi = (w[2 * j] as number) >>> 5;
        k = tableIndex(c, guide, shift, hi, hi * TWO_POW_26 + ((w[2 * j + 1] as number) >>> 6));
        if (k === n) break;
        const v = (x[i] as number) + (k - half);
        if (out === undefined) x[i] = v;
        else out[i] = v & mask;
      }
      if (j === pairs) {
        u.advance(2 * pairs);
        continue;
      }
      // Beyond the table: the uniform of coordinate i is consumed, then an exact two-Poisson draw.
      u.advance(2 * j + 2);
      const v = (x[i] as number) + sampleSkellam(this.mu, u);
      if (out === undefined) x[i] = v;
      else out[i] = v & mask;
      i++;
    }
  }
}

/**
 * A Sk(mu, mu) sampler with its set-up done once, one draw per call: for mu <=
 * {@link SKELLAM_TABLE_MAX_MEAN}, inversion of the table of {@link skellamPmf} with one 53-bit
 * uniform (the exact two-Poisson sampler {@link sampleSkellam} for the probability
 * <= {@link SKELLAM_TABLE_TAIL} beyond it); above, {@link sampleSkellam}. `tail` narrows the
 * table, for tests of the fallback.
 */
export function skellamSampler(mu: number, tail = SKELLAM_TABLE_TAIL): (u: UniformStream) => number {
  checkDeviationMean(mu, 'Skellam mean');
  if (mu === 0) return () => 0;
  if (mu > SKELLAM_TABLE_MAX_MEAN) return twoPoissonSampler(mu);
  const table = new SkellamTable(mu, tail);
  return (u) => table.draw(u);
}

/**
 * Sk(mu, mu) noise for whole vectors, set up once, making the same draws as {@link skellamSampler}
 * per coordinate; undefined when mu = 0 (no noise, and no draws).
 */
export function skellamNoise(mu: number, tail = SKELLAM_TABLE_TAIL): IntegerNoise | undefined {
  checkDeviationMean(mu, 'Skellam mean');
  if (mu === 0) return undefined;
  if (mu > SKELLAM_TABLE_MAX_MEAN) return perCoordinateNoise(twoPoissonSampler(mu));
  return new SkellamTable(mu, tail);
}

/** A function adding independent Sk(mu, mu) noise to every coordinate of a vector, its sampler set up once. */
export function skellamNoiser(mu: number): (x: Float64Array, rng: RandomSource) => void {
  const noise = skellamNoise(mu);
  if (noise === undefined) return () => undefined;
  return (x, rng) => noise.addInPlace(x, new UniformStream(rng));
}

/** Adds independent Sk(mu, mu) noise to every coordinate of `x` in place. */
export function addSkellamNoise(x: Float64Array, mu: number, rng: RandomSource): void {
  skellamNoiser(mu)(x, rng);
}

/** `n` independent Sk(mu, mu) draws. */
export function skellamSamples(mu: number, n: number, rng: RandomSource): Float64Array {
  const out = new Float64Array(n);
  addSkellamNoise(out, mu, rng);
  return out;
}
