import { check } from '../../secagg/util/errors.js';
import { logGamma } from '../special.js';
import { cdfTableSampler } from './cdf-table.js';
import type { UniformStream } from './uniform-stream.js';

/** Below this mean the sampler inverts the CDF; at or above it uses PTRS. */
const INVERSION_MAX_MEAN = 10;

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
 *   Economics 12, 1993). It is exact (a rejection sampler whose acceptance test is the Poisson
 *   pmf itself, evaluated with log-gamma), uses ~2.3 uniforms per draw and runs in O(1) for
 *   every lambda.
 *
 * Both are exact up to the precision of double arithmetic.
 */
export function samplePoisson(lambda: number, u: UniformStream): number {
  checkMean(lambda, 'Poisson mean');
  if (lambda === 0) return 0;
  if (lambda < INVERSION_MAX_MEAN) return poissonInversion(lambda, Math.exp(-lambda), u);
  return poissonPtrs(ptrsConstants(lambda), u);
}

/**
 * A Poisson(lambda) sampler with its set-up done once, for drawing many values with one mean (the
 * pipeline draws millions). For lambda <= {@link TABLE_MAX_MEAN} it inverts a CDF table with a
 * guide table (Chen & Asau 1974): one 53-bit uniform and ~1–2 comparisons per draw. The table holds
 * the pmf over λ ± 40√λ, computed by the ratio recurrence p(k±1)/p(k) outward from the mode and
 * normalised (relative error ~1e-11; the truncated tails weigh < e^-700). Above, PTRS.
 */
export function poissonSampler(lambda: number): (u: UniformStream) => number {
  checkMean(lambda, 'Poisson mean');
  if (lambda === 0) return () => 0;
  if (lambda <= TABLE_MAX_MEAN) return poissonTableSampler(lambda);
  const c = ptrsConstants(lambda);
  return (u) => poissonPtrs(c, u);
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

/** Precomputed PTRS constants for one lambda. */
interface PtrsConstants {
  lambda: number;
  logLambda: number;
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
  return { lambda, logLambda: Math.log(lambda), b, a, logInvAlpha: Math.log(invAlpha), vr };
}

function poissonPtrs(c: PtrsConstants, u: UniformStream): number {
  const lambda = c.lambda;
  for (;;) {
    const U = u.unit() - 0.5;
    const V = u.unit();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * c.a) / us + c.b) * U + lambda + 0.43);
    if (us >= 0.07 && V <= c.vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + c.logInvAlpha - Math.log(c.a / (us * us) + c.b) <= -lambda + k * c.logLambda - logGamma(k + 1)) {
      return k;
    }
  }
}

/** Checks a Poisson/Skellam mean: finite and non-negative. */
export function checkMean(lambda: number, what: string): void {
  check(Number.isFinite(lambda) && lambda >= 0, 'dp/bad-noise-parameter', `${what} must be a finite number >= 0, got ${lambda}`);
}
