import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { addsNoise, type DpConfig } from '../dp/index.js';
import { FedveilError } from '../secagg/util/errors.js';
import { subset, type Dataset } from '../trainer/data/dataset.js';
import { ADAPTIVE_CLIP_COORDINATES, type ClippingSpec } from './adaptive-clip.js';
import { noiseProbeCoordinates } from './noise-probe.js';

/**
 * Federated evaluation: every contributor appends three coordinates to its update — how many of
 * its held-out examples it evaluated the global model on, how many it classified correctly, and
 * their summed (capped) loss — so that the coordinator learns only the cohort's totals.
 *
 * The three coordinates travel inside the DP-encoded vector, not as protocol extra coordinates:
 * they are clipped, noised and accounted exactly like the model update. To keep the accounted
 * sensitivity at the clip norm C, a participant clips its model update to C·√(1 − β²) and scales
 * its counts into a vector of norm at most β·C (β = `normShare`), so the joint vector never
 * exceeds C and the ledger's mechanism covers both: evaluation costs no extra ε, only a fraction
 * β² of the update's squared norm budget. Counts are per participant at most `maxExamples` (m),
 * and each example's loss is capped at `lossCap` (L), which bounds every coordinate by 1 before
 * scaling: (n/m, correct/m, lossSum/(m·L)) · β·C/√3.
 */

/** Number of coordinates federated evaluation appends to each update. */
export const EVALUATION_COORDINATES = 3;

/** The `evaluation` section of a federation config. */
export const EvaluationSectionSchema = z
  .object({
    /** Fraction of each participant's rows held out from training and used for evaluation. */
    holdout: z.number().gt(0).lt(1).default(0.2),
    /** Most held-out examples a participant evaluates per round (m): bounds each count. */
    maxExamples: z.number().int().min(1).max(1_000_000).default(100),
    /** β: the evaluation counts get at most β·C of the clip norm, the update C·√(1 − β²). */
    normShare: z.number().gt(0).lt(1).default(0.25),
    /** Largest loss counted for one example (cross-entropy is unbounded). */
    lossCap: z.number().gt(0).finite().default(10),
  })
  .strict();

/** A federation's evaluation settings, defaults filled in. */
export type EvaluationSpec = z.infer<typeof EvaluationSectionSchema>;

/** What one participant measured on its held-out data (or, summed, what a round released). */
export interface EvaluationCounts {
  examples: number;
  correct: number;
  /** Sum over the examples of min(loss, lossCap). */
  lossSum: number;
}

/** The released totals of one round, as the ledger records them. */
export interface EvaluationTotals extends EvaluationCounts {
  /** The model version that was evaluated (the one the round's cohort started from). */
  modelVersion: number;
}

/**
 * Length of the vector each participant encodes: the model's `dim`, plus the evaluation counts
 * when enabled, plus the adaptive clipping bit (src/server/adaptive-clip.ts) when enabled, plus
 * the noise probe's coordinates (src/server/noise-probe.ts), always last.
 */
export function roundDim(config: { dim: number; evaluation?: EvaluationSpec | null | undefined; clipping?: ClippingSpec | null | undefined; noiseProbe?: number | undefined }): number {
  return config.dim + (config.evaluation ? EVALUATION_COORDINATES : 0) + (config.clipping?.adaptive ? ADAPTIVE_CLIP_COORDINATES : 0) + noiseProbeCoordinates(config);
}

/**
 * The vector a participant encodes: its update clipped to C·√(1 − β²) followed by its counts
 * scaled into norm β·C. `counts` null (nothing held out) contributes zeros: it adds nothing to
 * the totals. Counts are clamped to their bounds (at most m examples, correct ≤ examples, loss ≤
 * examples·L), so a buggy evaluator cannot exceed the norm the ledger accounts for.
 */
export function evaluationInput(update: Float32Array, counts: EvaluationCounts | null, spec: EvaluationSpec, clipNorm: number): Float32Array {
  const out = new Float32Array(update.length + EVALUATION_COORDINATES);
  let sq = 0;
  for (let i = 0; i < update.length; i++) sq += (update[i] as number) ** 2;
  const norm = Math.sqrt(sq);
  // A margin of one part in 10⁶ keeps float32 rounding from pushing the joint norm over C.
  const bound = clipNorm * Math.sqrt(1 - spec.normShare ** 2) * (1 - 1e-6);
  const factor = norm > bound ? bound / norm : 1;
  for (let i = 0; i < update.length; i++) out[i] = (update[i] as number) * factor;
  if (counts !== null) {
    const m = spec.maxExamples;
    const n = clamp(counts.examples, 0, m);
    const correct = clamp(counts.correct, 0, n);
    const loss = clamp(counts.lossSum, 0, n * spec.lossCap);
    const s = unitScale(spec, clipNorm);
    out[update.length] = (n / m) * s;
    out[update.length + 1] = (correct / m) * s;
    out[update.length + 2] = (loss / (m * spec.lossCap)) * s;
  }
  return out;
}

/**
 * The totals a round released, from the last three coordinates of its decoded mean (`tail`) and
 * the number of contributors the mean divided by. Noised totals can be negative or exceed the
 * count; they are returned as released, not clamped, so that the ledger records what was
 * released and readers can see the noise.
 */
export function evaluationTotals(tail: Float32Array, contributors: number, spec: EvaluationSpec, clipNorm: number): EvaluationCounts {
  if (tail.length !== EVALUATION_COORDINATES) throw new FedveilError('evaluation/bad-length', `expected ${EVALUATION_COORDINATES} evaluation coordinates, got ${tail.length}`);
  const k = (contributors * spec.maxExamples) / unitScale(spec, clipNorm);
  return {
    examples: (tail[0] as number) * k,
    correct: (tail[1] as number) * k,
    lossSum: (tail[2] as number) * k * spec.lossCap,
  };
}

/** Accuracy and mean loss from released totals (null when the released example count is not positive). */
export function evaluationRates(t: EvaluationCounts): { accuracy: number; loss: number } | null {
  if (!(t.examples > 0)) return null;
  return { accuracy: t.correct / t.examples, loss: t.lossSum / t.examples };
}

/**
 * Standard deviation, in examples, of the DP noise on each released total (examples, correct; the
 * loss total's is this times L), for a mechanism whose summed noise has standard deviation
 * `noiseStd` per coordinate of the encoded vector, in units of the update (z·C for a federation
 * calibrated to noise multiplier z).
 */
export function evaluationNoiseStd(spec: EvaluationSpec, clipNorm: number, noiseStd: number): number {
  return (noiseStd * spec.maxExamples) / unitScale(spec, clipNorm);
}

/**
 * What a count at its bound (m examples) encodes to: β·C/√3, less one part in 10⁶ so that float32
 * rounding cannot push the counts' norm over β·C. Encoder and decoder use the same value, so the
 * margin biases nothing.
 */
function unitScale(spec: EvaluationSpec, clipNorm: number): number {
  return ((spec.normShare * clipNorm) / Math.sqrt(EVALUATION_COORDINATES)) * (1 - 1e-6);
}

function clamp(x: number, lo: number, hi: number): number {
  if (!Number.isFinite(x)) return lo;
  return Math.min(hi, Math.max(lo, x));
}

/**
 * Standard deviation, per coordinate and in units of the update, of the noise in the sum of
 * `contributors` encodings: z·C for central noise, z·C·√(k/t) for distributed noise where each of
 * k contributors adds 1/t of the variance (t = minContributors), 0 without DP. Rounding noise is
 * left out: it is far smaller at any useful scale γ.
 */
export function releasedNoiseStd(dp: { mechanism: string; noiseMultiplier: number; clipNorm: number; minContributors: number }, contributors: number): number {
  if (dp.mechanism === 'none') return 0;
  const central = dp.noiseMultiplier * dp.clipNorm;
  return dp.mechanism === 'central' ? central : central * Math.sqrt(contributors / dp.minContributors);
}

/**
 * True when a round's evaluation totals carry DP noise: its mechanism adds noise (a mechanism
 * other than 'none', with a positive noise multiplier). False means the totals are the
 * contributors' exact counts, released without DP.
 */
export function evaluationNoised(dp: Pick<DpConfig, 'mechanism' | 'noiseMultiplier'>): boolean {
  return addsNoise(dp);
}

/**
 * The rows a participant holds out for evaluation and never trains on: a fixed share `holdout`
 * of its `rows` (rounded, at least one and never all of them when there are two or more),
 * chosen by ranking every row index by SHA-256(domain ‖ seed ‖ index), so the same identity
 * (`seed`: its public key) always holds out the same rows of the same file, and different
 * participants hold out unrelated ones. Returns both index lists in ascending order.
 */
export function holdoutSplit(rows: number, holdout: number, seed: Uint8Array): { train: number[]; holdout: number[] } {
  if (rows < 2) return { train: Array.from({ length: rows }, (_, i) => i), holdout: [] };
  const k = Math.min(rows - 1, Math.max(1, Math.round(rows * holdout)));
  const prefix = new TextEncoder().encode('fedveil/evaluation-holdout/v1');
  const msg = new Uint8Array(prefix.length + seed.length + 4);
  msg.set(prefix, 0);
  msg.set(seed, prefix.length);
  const view = new DataView(msg.buffer);
  const ranks = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    view.setUint32(prefix.length + seed.length, i, true);
    const h = sha256(msg);
    // 48 bits of the hash order the rows; ties (probability ~rows²/2⁴⁹) fall back to the index.
    ranks[i] = ((h[0] as number) * 2 ** 40 + (h[1] as number) * 2 ** 32 + (h[2] as number) * 2 ** 24 + (h[3] as number) * 2 ** 16 + (h[4] as number) * 2 ** 8 + (h[5] as number));
  }
  const order = Array.from({ length: rows }, (_, i) => i).sort((a, b) => (ranks[a] as number) - (ranks[b] as number) || a - b);
  const held = order.slice(0, k).sort((a, b) => a - b);
  const isHeld = new Uint8Array(rows);
  for (const i of held) isHeld[i] = 1;
  return { train: order.filter((i) => isHeld[i] === 0).sort((a, b) => a - b), holdout: held };
}

/**
 * A participant's rows for a federation with evaluation `spec` (null: none): those it trains on,
 * and those it measures each round's global model on (the {@link holdoutSplit} of its key, at most
 * `spec.maxExamples` of them), or null when nothing is held out.
 */
export function evaluationRows(dataset: Dataset, spec: EvaluationSpec | null, key: Uint8Array): { train: Dataset; heldOut: Dataset | null } {
  if (spec === null) return { train: dataset, heldOut: null };
  const split = holdoutSplit(dataset.size, spec.holdout, key);
  if (split.holdout.length === 0) return { train: dataset, heldOut: null };
  return { train: subset(dataset, split.train), heldOut: subset(dataset, split.holdout.slice(0, spec.maxExamples)) };
}

/**
 * Standard deviation of the DP noise in the accuracy and the mean loss a round released, read
 * as `correct / examples` and `lossSum / examples` with `examples` the released count (a first
 * order approximation: the noise in the count itself is left out). 0 without DP.
 */
export function evaluationRateNoise(
  spec: EvaluationSpec,
  dp: Pick<DpConfig, 'mechanism' | 'noiseMultiplier' | 'clipNorm' | 'minContributors'>,
  contributors: number,
  examples: number,
): { accuracy: number; loss: number } {
  if (!evaluationNoised(dp)) return { accuracy: 0, loss: 0 };
  const perTotal = evaluationNoiseStd(spec, dp.clipNorm, releasedNoiseStd(dp, contributors));
  const n = Math.max(examples, 1);
  return { accuracy: perTotal / n, loss: (perTotal * spec.lossCap) / n };
}
