/**
 * Turning the decoded sum of client vectors into the mean update. Uniform weighting (the
 * default under DP: every contributor counts once, so sensitivity is bounded by the clip norm)
 * divides by the number of contributors. Example-count weighting has each client send
 * `[n_k · Δ_k, n_k]` — the count as one extra coordinate inside the masked vector — so the
 * coordinator learns only Σn_k and divides by it.
 */
import { TrainerError, ensure, firstNonFinite } from './errors.js';

/** How client updates are weighted in the mean. */
export type Weighting = 'uniform' | 'examples';

/**
 * Client side of example weighting: a new vector `[examples · update, examples]` (length d + 1).
 * Throws `trainer/bad-option` for a non-positive or non-integer count, `trainer/non-finite-update`
 * for NaN/Inf in the update.
 */
export function weightByExamples(update: Float32Array, examples: number): Float32Array {
  ensure(Number.isInteger(examples) && examples >= 1, 'trainer/bad-option', `example count must be a positive integer, got ${examples}`);
  const bad = firstNonFinite(update);
  ensure(bad < 0, 'trainer/non-finite-update', () => `update holds ${update[bad]} at index ${bad}`);
  const out = new Float32Array(update.length + 1);
  for (let i = 0; i < update.length; i++) out[i] = update[i]! * examples;
  out[update.length] = examples;
  return out;
}

/**
 * Coordinator side of example weighting: from the sum of `[n_k · Δ_k, n_k]` vectors, the mean
 * Σ n_k Δ_k / Σ n_k (length d). Throws `trainer/bad-aggregate` when the total count is not
 * positive, `trainer/non-finite-update` for NaN/Inf.
 */
export function meanFromExampleWeightedSum(sum: Float32Array): Float32Array {
  ensure(sum.length >= 2, 'trainer/bad-aggregate', `an example-weighted sum has at least one weight and the count; got length ${sum.length}`);
  const bad = firstNonFinite(sum);
  ensure(bad < 0, 'trainer/non-finite-update', () => `aggregate holds ${sum[bad]} at index ${bad}`);
  const total = sum[sum.length - 1]!;
  if (!(total > 0)) throw new TrainerError('trainer/bad-aggregate', `total example count in the aggregate is ${total}; it must be positive`);
  const d = sum.length - 1;
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) out[i] = sum[i]! / total;
  return out;
}

/**
 * Coordinator side of uniform weighting: the sum divided by the number of contributors.
 * Throws `trainer/bad-aggregate` for a non-positive count, `trainer/non-finite-update` for NaN/Inf.
 */
export function meanFromUniformSum(sum: Float32Array, contributors: number): Float32Array {
  ensure(Number.isInteger(contributors) && contributors >= 1, 'trainer/bad-aggregate', `contributor count must be a positive integer, got ${contributors}`);
  const bad = firstNonFinite(sum);
  ensure(bad < 0, 'trainer/non-finite-update', () => `aggregate holds ${sum[bad]} at index ${bad}`);
  const out = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = sum[i]! / contributors;
  return out;
}
