import { check } from '../secagg/util/errors.js';

/**
 * Adaptive clipping (Andrew, Thakkar, McMahan & Ramaswamy, "Differentially private learning with
 * adaptive clipping", NeurIPS 2021): the clip norm follows the γ-quantile of the participants'
 * update norms. Each round releases the (noised) fraction b̄ of contributors whose update norm
 * was at most the round's clip norm C_t, and the next clip norm is the geometric step
 *
 *   C_{t+1} = clamp(C_t · exp(−η (b̄ − γ)), C_min, C_max).
 *
 * When fewer than a share γ of the updates fit (b̄ < γ) the clip norm grows, otherwise it shrinks;
 * its fixed point is the γ-quantile. The clamp (not in the paper) keeps a run of noisy fractions
 * from driving C to a value no update could use.
 */
export interface AdaptiveClipRule {
  /** γ: the quantile of the update norms the clip norm tracks, in (0, 1). */
  targetQuantile: number;
  /** η: the geometric step size (> 0). */
  learningRate: number;
  /** C_0: the clip norm of the first round. */
  initial: number;
  /** C_min, C_max: the clip norm never leaves [min, max] (0 < min ≤ initial ≤ max). */
  min: number;
  max: number;
}

/** Checks a rule's ranges; throws FedveilError('dp/bad-clip-rule') naming the first bad field. */
export function checkAdaptiveClipRule(rule: AdaptiveClipRule): void {
  const { targetQuantile: q, learningRate: eta, initial, min, max } = rule;
  check(q > 0 && q < 1, 'dp/bad-clip-rule', `targetQuantile must be in (0, 1), got ${q}`);
  check(eta > 0 && Number.isFinite(eta), 'dp/bad-clip-rule', `learningRate must be a positive number, got ${eta}`);
  check(min > 0 && Number.isFinite(max) && min <= initial && initial <= max, 'dp/bad-clip-rule', `need 0 < min ≤ initial ≤ max < ∞, got ${min}, ${initial}, ${max}`);
}

/**
 * The clip norm after a round that ran with `clipNorm` and released the fraction `fraction`
 * (noised: it may lie outside [0, 1], and is used as released, which keeps the step unbiased).
 */
export function nextClipNorm(clipNorm: number, fraction: number, rule: AdaptiveClipRule): number {
  check(Number.isFinite(fraction), 'dp/bad-clip-fraction', `the released fraction must be finite, got ${fraction}`);
  check(clipNorm > 0 && Number.isFinite(clipNorm), 'dp/bad-clip-norm', `the clip norm must be a positive number, got ${clipNorm}`);
  const stepped = clipNorm * Math.exp(-rule.learningRate * (fraction - rule.targetQuantile));
  return Math.min(rule.max, Math.max(rule.min, stepped));
}

/**
 * Relative tolerance within which a recorded clip norm counts as the one the rule gives:
 * `Math.exp` may differ in its last bit between JavaScript engines (a participant's browser and
 * the coordinator's Node), and no clip norm that close changes anything a round releases.
 */
export const CLIP_NORM_TOLERANCE = 1e-9;

/** True when `recorded` is the clip norm `expected` up to {@link CLIP_NORM_TOLERANCE}. */
export function sameClipNorm(recorded: number, expected: number): boolean {
  return Math.abs(recorded - expected) <= CLIP_NORM_TOLERANCE * Math.max(Math.abs(recorded), Math.abs(expected));
}
