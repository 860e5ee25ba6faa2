import { check } from '../../secagg/util/errors.js';

/** Euclidean norm of `x`. */
export function l2Norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    s += v * v;
  }
  return Math.sqrt(s);
}

/**
 * Euclidean norm of a float32 update, read in place. Same sum, in the same order, as
 * {@link l2Norm} of its float64 copy (every float32 is exactly a double), so the encoder can clip
 * without first copying the update; a separate function keeps the element loads monomorphic.
 */
export function updateL2Norm(update: Float32Array): number {
  let s = 0;
  for (let i = 0; i < update.length; i++) {
    const v = update[i] as number;
    s += v * v;
  }
  return Math.sqrt(s);
}

/**
 * The clip factor min(1, C/‖x‖) for a vector of L2 norm `norm`, shrunk a hair below C/‖x‖ so that
 * floating-point rounding cannot leave the product above C. Exactly 1 when no clipping is needed
 * (and x·1 = x exactly, so multiplying by it is the same as not multiplying). Throws
 * dp/non-finite-update for a NaN or infinite norm.
 */
export function clipFactor(norm: number, clipNorm: number): number {
  check(Number.isFinite(clipNorm) && clipNorm > 0, 'dp/bad-clip-norm', `clip norm must be a finite number > 0, got ${clipNorm}`);
  check(Number.isFinite(norm), 'dp/non-finite-update', 'the update contains a NaN or infinite value');
  if (norm <= clipNorm) return 1;
  return (clipNorm / norm) * (1 - 1e-15);
}

/**
 * Encode stage 1: scales `x` in place so that its L2 norm is at most `clipNorm` (vectors already
 * inside the ball are left unchanged). Returns the factor applied. There is no decode: clipping is
 * the one lossy stage, and the decoded sum is the sum of clipped updates. (The client encoder
 * computes the same factor with {@link clipFactor} and applies it while reading the update.)
 */
export function clipL2InPlace(x: Float64Array, clipNorm: number): number {
  const factor = clipFactor(l2Norm(x), clipNorm);
  if (factor === 1) return 1;
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * factor;
  return factor;
}
