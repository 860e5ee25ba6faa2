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

/** 2^-32: a uniform 32-bit word w as the double w·2^-32 in [0, 1), exactly. */
const TWO_POW_MINUS_32 = 2.3283064365386963e-10;

/**
 * One attempt of randomized rounding of the vector v_i = (src[i]·a)·b into `dst` (which may be
 * `src` itself): each coordinate to ⌈v⌉ with probability v − ⌊v⌋ and to ⌊v⌋ otherwise, one
 * 32-bit uniform w per coordinate (bias < 2^-32). Returns the squared L2 norm of the result.
 *
 * Why the two factors: the encoder folds the clip factor (or the Hadamard normalisation) and
 * 1/γ into this loop instead of making a pass for each, and multiplies in the same order as the
 * stage-by-stage pipeline did, so the doubles — and the rounding decisions — are the same.
 * Recomputing v on every attempt also means a retry needs no saved copy of the input.
 *
 * The up-step is taken iff w < (v − ⌊v⌋)·2^32, computed without a branch (its outcome is a coin
 * flip, which a branch predictor gets wrong half the time) as ⌈(v − ⌊v⌋) − w·2^-32⌉, which is 1
 * when that difference is positive and 0 (or −0) otherwise: scaling by 2^±32 is exact here, and
 * a floating-point difference is zero only for equal operands and otherwise has the exact sign.
 * `| 0` makes it an int32 0 or 1, so ⌊v⌋ + 0 keeps its usual +0 for ⌊v⌋ = −0.
 */
export function roundAttempt(src: Float32Array | Float64Array, a: number, b: number, u: UniformStream, dst: Float64Array): number {
  let norm2 = 0;
  const n = dst.length;
  for (let i = 0; i < n; ) {
    const w = u.uint32Run(n - i);
    for (let j = 0; j < w.length; i++, j++) {
      const v = ((src[i] as number) * a) * b;
      const f = Math.floor(v);
      const r = f + (Math.ceil(v - f - (w[j] as number) * TWO_POW_MINUS_32) | 0);
      dst[i] = r;
      norm2 += r * r;
    }
  }
  return norm2;
}

/**
 * {@link roundAttempt} that stores each rounded integer r reduced mod 2^bits straight into the
 * encoding (`dst[i] = r & mask`, mask from `wrapMask` in modular.ts), for encodings that add no
 * noise: the rounded vector is then never materialised as doubles. Returns ‖r‖² of the unreduced
 * vector.
 */
export function roundAttemptWrapped(
  src: Float32Array | Float64Array,
  a: number,
  b: number,
  u: UniformStream,
  mask: number,
  dst: Uint32Array,
): number {
  let norm2 = 0;
  const n = dst.length;
  for (let i = 0; i < n; ) {
    const w = u.uint32Run(n - i);
    for (let j = 0; j < w.length; i++, j++) {
      const v = ((src[i] as number) * a) * b;
      const f = Math.floor(v);
      const r = f + (Math.ceil(v - f - (w[j] as number) * TWO_POW_MINUS_32) | 0);
      dst[i] = r & mask;
      norm2 += r * r;
    }
  }
  return norm2;
}

/**
 * Conditional rounding (KLS 2021): runs `attempt` (one full rounding pass, returning the squared
 * norm of its result) until that norm is at most `normBound`, at most
 * {@link MAX_ROUNDING_ATTEMPTS} times, else dp/rounding-failed. `restore` runs between attempts,
 * for attempts that round their input in place and must rebuild it before trying again.
 */
export function conditionalRound(attempt: () => number, normBound: number, restore?: () => void): void {
  const bound2 = normBound * normBound;
  for (let n = 0; n < MAX_ROUNDING_ATTEMPTS; n++) {
    if (n > 0) restore?.();
    if (attempt() <= bound2) return;
  }
  throw new FedveilError(
    'dp/rounding-failed',
    `conditional rounding exceeded the norm bound ${normBound} in ${MAX_ROUNDING_ATTEMPTS} attempts; the input norm is above the bound's assumption`,
  );
}

/**
 * Encode stage: unbiased randomized rounding of `x` (in place) to integers, each coordinate to
 * ⌈x⌉ with probability x - ⌊x⌋ and to ⌊x⌋ otherwise (32-bit uniforms: bias < 2^-32 per
 * coordinate), repeated until the rounded vector's L2 norm is at most `normBound` (conditional
 * rounding, KLS 2021). Integer decode is the identity, so there is no decode stage. (The client
 * encoder uses {@link roundAttempt} directly and needs no copy of its input.)
 */
export function conditionalRoundInPlace(x: Float64Array, normBound: number, rng: RandomSource): void {
  const u = new UniformStream(rng);
  const input = x.slice();
  // v·1·1 = v exactly: the same rounding as of the vector itself.
  conditionalRound(() => roundAttempt(input, 1, 1, u, x), normBound);
}
