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
 * Encode stage 1: scales `x` in place so that its L2 norm is at most `clipNorm` (vectors already
 * inside the ball are left unchanged). Returns the factor applied. There is no decode: clipping is
 * the one lossy stage, and the decoded sum is the sum of clipped updates.
 */
export function clipL2InPlace(x: Float64Array, clipNorm: number): number {
  check(Number.isFinite(clipNorm) && clipNorm > 0, 'dp/bad-clip-norm', `clip norm must be a finite number > 0, got ${clipNorm}`);
  const norm = l2Norm(x);
  check(Number.isFinite(norm), 'dp/non-finite-update', 'the update contains a NaN or infinite value');
  if (norm <= clipNorm) return 1;
  // Shrink a hair below C so floating-point rounding cannot leave the result above it.
  const factor = (clipNorm / norm) * (1 - 1e-15);
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * factor;
  return factor;
}
