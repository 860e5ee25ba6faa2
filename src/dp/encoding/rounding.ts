import { FedveilError, check } from '../../secagg/util/errors.js';
import type { RandomSource } from '../../secagg/util/random.js';
import { UniformStream } from '../noise/uniform-stream.js';

/** Default conditional-rounding parameter β = e^{-1/2}, as in the reference implementation of KLS 2021. */
export const DEFAULT_BETA = Math.exp(-0.5);

/** Resampling attempts before conditional rounding gives up (each succeeds with probability >= 1 - β). */
export const MAX_ROUNDING_ATTEMPTS = 1000;

/**
 * Bound on the L2 norm of a vector of L2 norm <= `l2` (already scaled to integer units) after
 * (conditional) randomized rounding, Kairouz, Liu, Steinke, "The Distributed Discrete Gaussian
 * Mechanism for Federated Learning with Secure Aggregation" (ICML 2021), Theorem 1:
 *
 *   B = min( l2 + √d,  sqrt( l2² + d/4 + √(2 ln(1/β)) · (l2 + √d / 2) ) )
 *
 * The first bound holds for every rounding (each coordinate moves by < 1); the second is what
 * conditional rounding enforces by resampling, and is used only when β > 0.
 */
export function roundedL2NormBound(l2: number, beta: number, dim: number): number {
  check(Number.isSafeInteger(dim) && dim > 0, 'dp/bad-dimension', `dimension must be a positive integer, got ${dim}`);
  check(beta >= 0 && beta < 1, 'dp/bad-beta', `beta must be in [0, 1), got ${beta}`);
  check(l2 > 0 && Number.isFinite(l2), 'dp/bad-clip-norm', `norm bound must be a finite number > 0, got ${l2}`);
  const bound1 = l2 + Math.sqrt(dim);
  if (beta === 0) return bound1;
  const sq = l2 * l2 + 0.25 * dim + Math.sqrt(2 * Math.log(1 / beta)) * (l2 + 0.5 * Math.sqrt(dim));
  return Math.min(bound1, Math.sqrt(sq));
}

/**
 * L1 bound of an integer vector with L2 norm <= `l2` in dimension `dim`: ‖x‖₁ <= √d‖x‖₂, and for
 * integer coordinates ‖x‖₁ <= ‖x‖₂².
 */
export function roundedL1NormBound(l2: number, dim: number): number {
  return l2 * Math.min(Math.sqrt(dim), l2);
}

/**
 * Encode stage: unbiased randomized rounding of `x` (in place) to integers, each coordinate to
 * ⌈x⌉ with probability x - ⌊x⌋ and to ⌊x⌋ otherwise (32-bit uniforms: bias < 2^-32 per
 * coordinate), repeated until the rounded vector's L2 norm is at most `normBound` (conditional
 * rounding, KLS 2021). Integer decode is the identity, so there is no decode stage.
 */
export function conditionalRoundInPlace(x: Float64Array, normBound: number, rng: RandomSource): void {
  const u = new UniformStream(rng);
  const bound2 = normBound * normBound;
  const input = x.slice();
  for (let attempt = 0; attempt < MAX_ROUNDING_ATTEMPTS; attempt++) {
    let norm2 = 0;
    for (let i = 0; i < x.length; i++) {
      const v = input[i] as number;
      const f = Math.floor(v);
      const r = f + (u.uint32() < (v - f) * 4294967296 ? 1 : 0);
      x[i] = r;
      norm2 += r * r;
    }
    if (norm2 <= bound2) return;
  }
  throw new FedveilError(
    'dp/rounding-failed',
    `conditional rounding exceeded the norm bound ${normBound} in ${MAX_ROUNDING_ATTEMPTS} attempts; the input norm is above the bound's assumption`,
  );
}
