import { z } from 'zod';
import { checkAdaptiveClipRule, nextClipNorm, sameClipNorm, type AdaptiveClipRule } from '../dp/index.js';
import { FedveilError } from '../secagg/util/errors.js';

/**
 * Adaptive clipping in a federation (spec/protocol.md §5.3.4; the rule is src/dp/adaptive-clip.ts).
 *
 * The DP mechanism stays the genesis's, its clip norm C (`dp.clipNorm`) now a reference norm of
 * the encoding: in round t a participant clips its update to the stated C_t, notes the bit
 * b = 1[‖update‖ ≤ C_t] (before clipping), and encodes its update scaled by C·s/C_t followed by
 * b·β·C, where β is the bit's share of the norm (`normShare`) and s = √(1 − β² − β_e²) the update's
 * (β_e: federated evaluation's share, 0 without it). The joint vector has norm at most C, as with
 * federated evaluation, so the mechanism's sensitivity, its events and the ledger's ε are those
 * of any round of its dimension, whatever C_t is: the bit costs no extra ε, only a share β² of the
 * update's squared norm budget. The coordinator scales the decoded update back by C_t/(C·s),
 * which makes the noise in the model z·C_t/s, and reads the noised fraction b̄ off the bit's
 * coordinate; the next clip norm follows from b̄ by the rule, so every C_t follows from the ledger.
 */

/** Number of coordinates adaptive clipping appends to each update (after any evaluation counts). */
export const ADAPTIVE_CLIP_COORDINATES = 1;

/**
 * The margin that keeps float32 rounding from pushing the joint norm over C (one part in 10⁶, as
 * federated evaluation's): encoder and decoder use the same factors, so it biases nothing.
 */
const MARGIN = 1 - 1e-6;

/** The `clipping` section of a federation config. Absent: every round clips at the fixed `dp.clipNorm`. */
export const ClippingSectionSchema = z
  .object({
    adaptive: z
      .object({
        /** γ: the quantile of the update norms the clip norm follows. */
        targetQuantile: z.number().gt(0).lt(1).default(0.5),
        /** η: the geometric step, C_{t+1} = C_t · exp(−η (b̄ − γ)). */
        learningRate: z.number().gt(0).max(10).default(0.2),
        /** C_0; default `dp.clipNorm`. */
        initial: z.number().gt(0).finite().optional(),
        /** Smallest clip norm; default C_0 / 1000. */
        min: z.number().gt(0).finite().optional(),
        /** Largest clip norm; default 1000 · C_0. */
        max: z.number().gt(0).finite().optional(),
        /** β: the bit's share of the reference norm C; the update keeps √(1 − β² − β_e²). */
        normShare: z.number().gt(0).lt(1).default(0.2),
      })
      .strict(),
  })
  .strict();

/** A federation's clipping settings, defaults filled in. */
export type ClippingSpec = z.infer<typeof ClippingSectionSchema>;

/** The parts of a federation config adaptive clipping reads. */
export interface ClippingConfig {
  dp: { clipNorm: number };
  clipping?: ClippingSpec | null | undefined;
  evaluation?: { normShare: number } | null | undefined;
}

/** The rule of a federation with adaptive clipping, its bounds resolved; null for fixed clipping. */
export function adaptiveClipRule(config: ClippingConfig): AdaptiveClipRule | null {
  const a = config.clipping?.adaptive;
  if (!a) return null;
  const initial = a.initial ?? config.dp.clipNorm;
  return { targetQuantile: a.targetQuantile, learningRate: a.learningRate, initial, min: a.min ?? initial / 1000, max: a.max ?? initial * 1000 };
}

/** What is wrong with a config's clipping section, by field (empty when it holds). */
export function clippingProblems(config: ClippingConfig): { path: (string | number)[]; message: string }[] {
  const a = config.clipping?.adaptive;
  if (!a) return [];
  const out: { path: (string | number)[]; message: string }[] = [];
  const rule = adaptiveClipRule(config) as AdaptiveClipRule;
  try {
    checkAdaptiveClipRule(rule);
  } catch (e) {
    out.push({ path: ['clipping', 'adaptive'], message: `${(e as Error).message} (min and max default to initial / 1000 and 1000 · initial)` });
  }
  const shares = a.normShare ** 2 + (config.evaluation?.normShare ?? 0) ** 2;
  if (!(shares < 1)) {
    out.push({ path: ['clipping', 'adaptive', 'normShare'], message: `the bit's and the evaluation's norm shares leave the update nothing: β² + β_e² = ${shares} must be below 1` });
  }
  return out;
}

/** How one round's update is clipped, scaled into the encoding and read back. */
export interface RoundClip {
  /** C_t: the clip norm the participants clip their updates to. */
  clipNorm: number;
  /** C: the mechanism's clip norm, the encoding's reference. */
  referenceNorm: number;
  /** β: the bit's share of C. */
  normShare: number;
  /** √(1 − β² − β_e²): the update's share of C. */
  updateShare: number;
}

/** The round's clipping from the federation's settings and the stated C_t; null for fixed clipping. */
export function roundClip(config: ClippingConfig, clipNorm: number | null): RoundClip | null {
  const a = config.clipping?.adaptive;
  if (!a) return null;
  if (clipNorm === null || !(clipNorm > 0) || !Number.isFinite(clipNorm)) {
    throw new FedveilError('clip/missing-clip-norm', `a federation with adaptive clipping states each round's clip norm, got ${clipNorm}`);
  }
  const rest = 1 - a.normShare ** 2 - (config.evaluation?.normShare ?? 0) ** 2;
  if (!(rest > 0)) throw new FedveilError('clip/bad-norm-share', `the norm shares leave the update nothing (1 − β² − β_e² = ${rest})`);
  return { clipNorm, referenceNorm: config.dp.clipNorm, normShare: a.normShare, updateShare: Math.sqrt(rest) };
}

/** The factor from the update (clipped to C_t) to its part of the encoded vector. */
function encodingFactor(c: RoundClip): number {
  return (c.referenceNorm * c.updateShare * MARGIN) / c.clipNorm;
}

/** What the bit 1 encodes to: β·C, less the margin. */
function bitUnit(c: RoundClip): number {
  return c.normShare * c.referenceNorm * MARGIN;
}

/**
 * A participant's update clipped to C_t and scaled into its share of the encoding (norm at most
 * C·s), with its bit: 1 when the update's norm, before clipping, is at most C_t.
 */
export function clipForEncoding(update: Float32Array, c: RoundClip): { scaled: Float32Array; bit: 0 | 1 } {
  let sq = 0;
  for (let i = 0; i < update.length; i++) sq += (update[i] as number) ** 2;
  const norm = Math.sqrt(sq);
  const bit = norm <= c.clipNorm ? 1 : 0;
  const factor = encodingFactor(c) * (bit === 1 ? 1 : c.clipNorm / norm);
  const scaled = new Float32Array(update.length);
  for (let i = 0; i < update.length; i++) scaled[i] = (update[i] as number) * factor;
  return { scaled, bit };
}

/** `vector` with the bit's coordinate appended (the last coordinate of the encoded vector). */
export function appendClipBit(vector: Float32Array, bit: 0 | 1, c: RoundClip): Float32Array {
  const out = new Float32Array(vector.length + ADAPTIVE_CLIP_COORDINATES);
  out.set(vector);
  out[vector.length] = bit * bitUnit(c);
  return out;
}

/** The mean clipped update in model units, from its part of the decoded mean. */
export function releasedUpdate(encoded: Float32Array, c: RoundClip): Float32Array {
  const k = 1 / encodingFactor(c);
  return Float32Array.from(encoded, (x) => x * k);
}

/** The released fraction b̄ of contributors whose update fit C_t, from the bit's coordinate of the decoded mean (noised, not clamped). */
export function releasedFraction(bitCoordinate: number, c: RoundClip): number {
  return bitCoordinate / bitUnit(c);
}

/**
 * Standard deviation of the DP noise on the released fraction b̄, for a mechanism whose summed
 * noise has deviation `noiseStd` per coordinate of the encoded vector (z·C, or z·C·√(k/t) for
 * distributed noise: `releasedNoiseStd`) over `contributors` contributors: σ / (k·β·C). With central noise z this is
 * z / (β·k): β = 0.2, z = 1 and 100 contributors give 0.05, the 1/20 of a cohort the paper uses.
 */
export function fractionNoiseStd(noiseStd: number, contributors: number, c: Pick<RoundClip, 'normShare' | 'referenceNorm'>): number {
  return noiseStd / (contributors * c.normShare * c.referenceNorm * MARGIN);
}

/** What a charged ledger entry records of its round's clipping. */
export interface ClipRecord {
  /** C_t, the clip norm the round's participants clipped to. */
  clipNorm: number;
  /** b̄ as released (noised); null for a round aborted after unmask, which released nothing. */
  fraction: number | null;
}

/**
 * The clip norms a ledger's charged entries must follow: C_0, then after each released round the
 * rule's step from the fraction it recorded. A round aborted after unmask released no fraction
 * and leaves C unchanged; so does a round aborted before (it has no entry).
 */
export class ClipChain {
  private value: number;

  constructor(private readonly rule: AdaptiveClipRule) {
    this.value = rule.initial;
  }

  /** The clip norm of the next round. */
  get current(): number {
    return this.value;
  }

  /**
   * Checks one charged entry's clipping record against the chain and moves the chain past it.
   * Returns what disagrees (empty when it follows). The chain moves by the recorded fraction.
   */
  follow(entry: { kind: string; clipping?: ClipRecord | undefined }): string[] {
    const r = entry.clipping;
    if (r === undefined) return [`the entry records no clip norm; the federation clips adaptively and its next clip norm is ${this.value}`];
    const problems: string[] = [];
    if (!sameClipNorm(r.clipNorm, this.value)) problems.push(`clip norm ${r.clipNorm}, the rule and the fractions before give ${this.value}`);
    if (entry.kind === 'round') {
      if (r.fraction === null || !Number.isFinite(r.fraction)) problems.push('a released round must record the fraction it released');
      else this.value = nextClipNorm(this.value, r.fraction, this.rule);
    } else if (r.fraction !== null) {
      problems.push(`a ${entry.kind} entry released no fraction`);
    }
    return problems;
  }
}

/** The clip norm of the next round of a federation (`rule` non-null) whose charged entries so far are `entries`. */
export function nextRoundClipNorm(rule: AdaptiveClipRule, entries: readonly { kind: string; clipping?: ClipRecord | undefined }[]): number {
  const chain = new ClipChain(rule);
  for (const e of entries) if (e.kind === 'round' || e.kind === 'aborted-after-unmask') chain.follow(e as Parameters<ClipChain['follow']>[0]);
  return chain.current;
}
