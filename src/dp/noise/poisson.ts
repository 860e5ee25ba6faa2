import { check } from '../../secagg/util/errors.js';
import { logGamma, stirlingCorrection } from '../special.js';
import { cdfTableSampler } from './cdf-table.js';
import type { UniformStream } from './uniform-stream.js';

/** Below this mean the sampler inverts the CDF; at or above it uses PTRS. */
const INVERSION_MAX_MEAN = 10;

/**
 * The largest mean {@link samplePoisson} and {@link poissonSampler} accept: their draws stay
 * below 2^53, where every integer is a double (a draw reaching 2^53 is 2^26 standard deviations
 * out).
 */
export const POISSON_MAX_MEAN = 2 ** 52;

/**
 * The largest mean {@link poissonDeviationSampler} (and so the Skellam noise) accepts. A config
 * that passes the modulus-headroom check gives at most ~4.06e16 < 2^56 per client (bits = 32,
 * d = 1, t = n = 1; see spec/dp.md §3); 2^56 keeps the deviations and the proposal's arithmetic
 * within ~2^36, far inside the doubles' exact integers.
 */
export const POISSON_DEVIATION_MAX_MEAN = 2 ** 56;

/** Up to this mean `poissonSampler` inverts a precomputed CDF table (≈ 80√λ + 200 entries); above it, PTRS. */
export const TABLE_MAX_MEAN = 1e7;

/** Half-width of the table in standard deviations: the mass beyond is below e^-700, under double resolution. */
const TABLE_SDS = 40;

/**
 * Draws one Poisson(lambda) integer (for many draws with one mean use {@link poissonSampler}).
 *
 * - lambda < 10: sequential inversion of the CDF with one 53-bit uniform (expected lambda + 1
 *   multiply-adds). If floating-point rounding leaves the running CDF below the uniform (u within
 *   ~1e-15 of 1), the draw is repeated rather than truncated.
 * - lambda >= 10: PTRS, the transformed rejection method with squeeze of Hörmann, "The transformed
 *   rejection method for generating Poisson random variables" (Insurance: Mathematics and
 *   Economics 12, 1993), in the form of {@link poissonDeviationSampler}: a rejection sampler
 *   whose acceptance test is the Poisson pmf itself ({@link poissonLogPmf}, free of
 *   cancellation), ~2.3 uniforms per draw, O(1) for every lambda.
 *
 * Both are exact up to the precision of double arithmetic. lambda <= {@link POISSON_MAX_MEAN}.
 */
export function samplePoisson(lambda: number, u: UniformStream): number {
  checkPoissonMean(lambda);
  if (lambda === 0) return 0;
  if (lambda < INVERSION_MAX_MEAN) return poissonInversion(lambda, Math.exp(-lambda), u);
  const c = ptrsConstants(lambda);
  return c.base + ptrsDeviation(c, u);
}

/**
 * A Poisson(lambda) sampler with its set-up done once, for drawing many values with one mean (the
 * pipeline draws millions). For lambda <= {@link TABLE_MAX_MEAN} it inverts a CDF table with a
 * guide table (Chen & Asau 1974): one 53-bit uniform and ~1–2 comparisons per draw. The table holds
 * the pmf over λ ± 40√λ, computed by the ratio recurrence p(k±1)/p(k) outward from the mode and
 * normalised (relative error ~1e-11; the truncated tails weigh < e^-700). Above, PTRS (as in
 * {@link samplePoisson}). lambda <= {@link POISSON_MAX_MEAN}.
 */
export function poissonSampler(lambda: number): (u: UniformStream) => number {
  checkPoissonMean(lambda);
  if (lambda === 0) return () => 0;
  if (lambda <= TABLE_MAX_MEAN) return poissonTableSampler(lambda);
  const c = ptrsConstants(lambda);
  return (u) => c.base + ptrsDeviation(c, u);
}

/**
 * A sampler of X − ⌊lambda⌋ for X ~ Poisson(lambda), set up once: the draw as a deviation from
 * the integer part of the mean, exact for every lambda <= {@link POISSON_DEVIATION_MAX_MEAN},
 * including means beyond 2^53 where X itself is not representable (the Skellam noise,
 * Poisson − Poisson, needs only the deviations). Inversion below 10, PTRS above, as
 * {@link samplePoisson}, whose draws are ⌊lambda⌋ plus these, from the same uniforms.
 *
 * PTRS in deviation form: with m = ⌊λ⌋, f = λ − m (both exact), the proposal
 * k = ⌊(2a/u_s + b)·U + λ + 0.43⌋ is computed as m + j, j = ⌊(2a/u_s + b)·U + f + 0.43⌋, so
 * adding λ never rounds the proposal (at λ = 1e15 the doubles are 1/8 apart, and above 2^53 they
 * are 2 or more apart); k < 0 is j < −m; the acceptance test takes log pmf(k) from
 * {@link poissonLogPmf} with k − λ = j − f.
 */
export function poissonDeviationSampler(lambda: number): (u: UniformStream) => number {
  checkDeviationMean(lambda);
  if (lambda === 0) return () => 0;
  if (lambda < INVERSION_MAX_MEAN) {
    const p0 = Math.exp(-lambda);
    const base = Math.floor(lambda);
    return (u) => poissonInversion(lambda, p0, u) - base;
  }
  const c = ptrsConstants(lambda);
  return (u) => ptrsDeviation(c, u);
}

/** One draw of {@link poissonDeviationSampler}(lambda), without keeping the set-up. */
export function samplePoissonDeviation(lambda: number, u: UniformStream): number {
  checkDeviationMean(lambda);
  if (lambda === 0) return 0;
  if (lambda < INVERSION_MAX_MEAN) return poissonInversion(lambda, Math.exp(-lambda), u) - Math.floor(lambda);
  return ptrsDeviation(ptrsConstants(lambda), u);
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** From this k on, log k! is taken as Stirling's formula plus {@link stirlingCorrection} (accurate to < 1e-19 there). */
const STIRLING_MIN = 15;

/**
 * The deviance λ·φ((k − λ)/λ) = k·log(k/λ) + λ − k of the Poisson pmf, for k = λ + d > 0, with a
 * small relative error for every d (Loader, "Fast and accurate computation of binomial
 * probabilities", 2000, the `bd0` of R's dpois). For |d| < 0.1(k + λ), with v = d/(k + λ):
 * k·log(k/λ) = 2k·artanh(v) = 2k(v + v³/3 + v⁵/5 + …), and 2kv − d = d·v, so the deviance is
 * d·v + 2k Σ_{i>=1} v^{2i+1}/(2i + 1): every term is formed from d, never as the difference of
 * numbers of size k·log k (whose rounding alone, ~k·log k·2^-53, is ~4 nats at k ~ 1e15).
 * Further out, k·log1p(d/λ) − d loses at most a digit.
 */
export function poissonDeviance(d: number, lambda: number): number {
  const sum = 2 * lambda + d; // k + λ
  if (Math.abs(d) < 0.1 * sum) {
    let v = d / sum;
    let s = d * v;
    let term = 2 * (lambda + d) * v;
    v *= v;
    // |v| < 0.1: each term is below 1/100 of the last, and the loop ends in < 10 steps.
    for (let i = 1; i < 40; i++) {
      term *= v;
      const next = s + term / (2 * i + 1);
      if (next === s) break;
      s = next;
    }
    return s;
  }
  return (lambda + d) * Math.log1p(d / lambda) - d;
}

/**
 * log P(X = ⌊λ⌋ + j) for X ~ Poisson(λ), without cancellation at any λ: for k = ⌊λ⌋ + j >= 15,
 * log(e^{-λ}λ^k/k!) with log k! = (k + ½)·log k − k + ½·log 2π + δ(k) ({@link
 * stirlingCorrection}) is −{@link poissonDeviance}(k − λ, λ) − ½·log(2πk) − δ(k), with
 * k − λ = j − (λ − ⌊λ⌋); below 15, directly with log-gamma (where that matters, λ is small, and
 * so are the terms). Its absolute error is ~1e-14 for |k − λ| up to many standard deviations,
 * where the textbook −λ + k·log λ − log Γ(k + 1) has an error of ~λ·log λ·2^-53 (≈ 4 nats at
 * λ = 1e15).
 */
export function poissonLogPmf(lambda: number, j: number): number {
  const base = Math.floor(lambda);
  return logPmf(lambda, base + j, j - (lambda - base));
}

/** log P(X = k) given k and d = k − λ (d exact up to rounding, k to relative precision when beyond 2^53). */
function logPmf(lambda: number, k: number, d: number): number {
  if (k < 0) return -Infinity;
  if (k < STIRLING_MIN) return lambda === 0 ? (k === 0 ? 0 : -Infinity) : -lambda + k * Math.log(lambda) - logGamma(k + 1);
  return -poissonDeviance(d, lambda) - HALF_LOG_2PI - 0.5 * Math.log(k) - stirlingCorrection(k);
}

function poissonTableSampler(lambda: number): (u: UniformStream) => number {
  const sd = Math.sqrt(lambda);
  const lo = Math.max(0, Math.floor(lambda - TABLE_SDS * sd - 100));
  const hi = Math.ceil(lambda + TABLE_SDS * sd + 100);
  const n = hi - lo + 1;
  const pmf = new Float64Array(n);
  const mode = Math.floor(lambda);
  pmf[mode - lo] = 1;
  for (let k = mode; k < hi; k++) pmf[k + 1 - lo] = (pmf[k - lo] as number) * (lambda / (k + 1));
  for (let k = mode; k > lo; k--) pmf[k - 1 - lo] = (pmf[k - lo] as number) * (k / lambda);
  return cdfTableSampler(lo, pmf);
}

function poissonInversion(lambda: number, p0: number, u: UniformStream): number {
  for (;;) {
    const x = u.unit();
    let k = 0;
    let p = p0;
    let cdf = p0;
    while (x >= cdf) {
      k++;
      p *= lambda / k;
      const next = cdf + p;
      if (next === cdf) break; // CDF stopped growing in floating point: redraw.
      cdf = next;
    }
    if (x < cdf) return k;
  }
}

/** Precomputed PTRS constants for one lambda (Hörmann 1993), and its integer and fractional parts. */
interface PtrsConstants {
  lambda: number;
  /** ⌊λ⌋. */
  base: number;
  /** λ − ⌊λ⌋, exact. */
  frac: number;
  /** frac + 0.43: the proposal's offset, relative to base. */
  shift: number;
  b: number;
  a: number;
  logInvAlpha: number;
  vr: number;
}

function ptrsConstants(lambda: number): PtrsConstants {
  const slam = Math.sqrt(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  const base = Math.floor(lambda);
  const frac = lambda - base;
  return { lambda, base, frac, shift: frac + 0.43, b, a, logInvAlpha: Math.log(invAlpha), vr };
}

/** One PTRS draw of X − ⌊λ⌋ (see {@link poissonDeviationSampler}). */
function ptrsDeviation(c: PtrsConstants, u: UniformStream): number {
  for (;;) {
    const U = u.unit() - 0.5;
    const V = u.unit();
    const us = 0.5 - Math.abs(U);
    const j = Math.floor(((2 * c.a) / us + c.b) * U + c.shift);
    if (us >= 0.07 && V <= c.vr) return j;
    if (j < -c.base || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + c.logInvAlpha - Math.log(c.a / (us * us) + c.b) <= logPmf(c.lambda, c.base + j, j - c.frac)) return j;
  }
}

/** Checks a Poisson/Skellam mean: finite and non-negative. */
export function checkMean(lambda: number, what: string): void {
  check(Number.isFinite(lambda) && lambda >= 0, 'dp/bad-noise-parameter', `${what} must be a finite number >= 0, got ${lambda}`);
}

function checkPoissonMean(lambda: number): void {
  checkMean(lambda, 'Poisson mean');
  check(
    lambda <= POISSON_MAX_MEAN,
    'dp/bad-noise-parameter',
    `Poisson mean must be at most 2^52 (draws beyond 2^53 are not exact integers), got ${lambda}; poissonDeviationSampler draws X − ⌊λ⌋ instead`,
  );
}

/** Checks the mean of a deviation sampler or of Skellam noise: finite, >= 0 and <= {@link POISSON_DEVIATION_MAX_MEAN}. */
export function checkDeviationMean(lambda: number, what = 'Poisson mean'): void {
  checkMean(lambda, what);
  check(lambda <= POISSON_DEVIATION_MAX_MEAN, 'dp/bad-noise-parameter', `${what} must be at most 2^56, got ${lambda}`);
}
