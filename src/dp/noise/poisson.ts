import { check } from '../../secagg/util/errors.js';
import { logGamma } from '../special.js';
import type { UniformStream } from './uniform-stream.js';

/** Below this mean the sampler inverts the CDF; at or above it uses PTRS. */
const INVERSION_MAX_MEAN = 10;

/**
 * Draws one Poisson(lambda) integer.
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
  return poissonSampler(lambda)(u);
}

/** A Poisson(lambda) sampler with its constants precomputed, for drawing many values with one mean. */
export function poissonSampler(lambda: number): (u: UniformStream) => number {
  if (lambda === 0) return () => 0;
  if (lambda < INVERSION_MAX_MEAN) {
    const p0 = Math.exp(-lambda);
    return (u) => poissonInversion(lambda, p0, u);
  }
  const c = ptrsConstants(lambda);
  return (u) => poissonPtrs(c, u);
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
