import { FedveilError } from '../secagg/util/errors.js';
import { standardize } from '../trainer/data/csv.js';
import type { Dataset } from '../trainer/data/dataset.js';
import { federatedStandardization, type DataSchema, type FederatedStandardizationSpec, type FixedStandardization } from './data-schema.js';

/**
 * Federated standardisation: before round 0, a federation whose data schema says
 * `standardize: { federated: … }` runs one statistics round. Every contributor clamps each
 * feature to its declared range [lo, hi], maps it to u = (x − lo) / (hi − lo) ∈ [0, 1], and sends
 * the per-feature mean of u and mean of u² over its own training rows: 2F numbers in [0, 1],
 * scaled by C/√(2F) so that the vector's norm never exceeds the clip norm C. The vector is
 * zero-padded to the federation's round dimension and goes through the ordinary masked protocol
 * with the ledger's mechanism, so the statistics round's DP event is exactly a training round's:
 * the genesis calibration counts it as one round more, and the ledger charges it like one.
 *
 * The released mean over the k contributors gives, per feature, m̂ = mean of u and ŝ = mean of u²
 * (each participant weighted equally, whatever its row count), hence
 *   mean = lo + (hi − lo) · clamp(m̂, 0, 1),
 *   std  = (hi − lo) · min(½, √max(ŝ − clamp(m̂, 0, 1)², f²))      (f = `stdFloor`).
 * Without noise and with every value inside its range, these are the mean and the (population)
 * standard deviation of the equal-weight mixture of the participants' rows. The estimator is
 * biased: values outside [lo, hi] are clamped (pulling the statistics into the range), participants
 * count equally (a participant with few rows counts as much as one with many), the std is the
 * square root of a noised variance (biased low by Jensen's inequality when the noise is small,
 * and floored at f·(hi − lo) when the noise makes the variance negative), and clamping m̂ and
 * capping the std at half the range are post-processing that only ever moves an estimate back
 * into what the range allows.
 */

/** The federation's federated standardisation settings, or null when it has none. */
export function statisticsSpec(config: { data?: DataSchema | undefined | null }): FederatedStandardizationSpec | null {
  return federatedStandardization(config.data);
}

/** Statistics rounds a federation runs before its training rounds: 1 with federated standardisation, else 0. */
export function statisticsRounds(config: { data?: DataSchema | undefined | null }): number {
  return statisticsSpec(config) === null ? 0 : 1;
}

/** Coordinates the statistics payload needs: a mean and a mean of squares per feature. */
export function statisticsCoordinates(features: number): number {
  return 2 * features;
}

/** Per feature, the mean of u and the mean of u², u = (clamp(x, lo, hi) − lo) / (hi − lo): one participant's, or the released average. */
export interface UnitMoments {
  mean: number[];
  meanSquare: number[];
}

/**
 * My moments over `ds`'s rows (raw, unstandardised features, in the schema's feature order).
 * Throws FedveilError 'statistics/no-rows' for an empty dataset and 'statistics/shape-mismatch'
 * when its feature count is not the spec's.
 */
export function localMoments(ds: Pick<Dataset, 'features' | 'size' | 'featureShape'>, spec: FederatedStandardizationSpec): UnitMoments {
  const d = ds.featureShape.reduce((a, b) => a * b, 1);
  if (ds.size === 0) throw new FedveilError('statistics/no-rows', 'no training rows to compute feature statistics from');
  if (d !== spec.lower.length) throw new FedveilError('statistics/shape-mismatch', `the data has ${d} features, the federated standardisation ${spec.lower.length}`);
  const mean = new Array<number>(d).fill(0);
  const meanSquare = new Array<number>(d).fill(0);
  for (let r = 0; r < ds.size; r++) {
    for (let j = 0; j < d; j++) {
      const u = unit(ds.features[r * d + j] as number, spec.lower[j] as number, spec.upper[j] as number);
      mean[j] = (mean[j] as number) + u;
      meanSquare[j] = (meanSquare[j] as number) + u * u;
    }
  }
  return { mean: mean.map((s) => s / ds.size), meanSquare: meanSquare.map((s) => s / ds.size) };
}

/**
 * The vector a participant encodes in the statistics round: its moments (clamped to [0, 1])
 * scaled by C/√(2F), less one part in 10⁶ so that float32 rounding cannot push the norm over C,
 * then zeros up to `dim` (the federation's round dimension, at least 2F).
 */
export function statisticsInput(m: UnitMoments, clipNorm: number, dim: number): Float32Array {
  const f = m.mean.length;
  if (m.meanSquare.length !== f) throw new FedveilError('statistics/shape-mismatch', `${f} means but ${m.meanSquare.length} means of squares`);
  if (dim < statisticsCoordinates(f)) throw new FedveilError('statistics/dim-too-small', `the round dimension ${dim} cannot carry ${statisticsCoordinates(f)} statistics coordinates`);
  const s = unitScale(f, clipNorm);
  const out = new Float32Array(dim);
  for (let j = 0; j < f; j++) {
    out[j] = clamp01(m.mean[j] as number) * s;
    out[f + j] = clamp01(m.meanSquare[j] as number) * s;
  }
  return out;
}

/**
 * The moments a statistics round released, from its decoded mean over the contributors
 * (`aggregate`, the round's whole vector). Noised values can fall outside [0, 1]; they are
 * returned as released, so that the ledger records what was released.
 */
export function releasedMoments(aggregate: Float32Array, features: number, clipNorm: number): UnitMoments {
  if (aggregate.length < statisticsCoordinates(features)) {
    throw new FedveilError('statistics/dim-too-small', `the released vector has ${aggregate.length} coordinates, fewer than ${statisticsCoordinates(features)}`);
  }
  const s = unitScale(features, clipNorm);
  const mean: number[] = [];
  const meanSquare: number[] = [];
  for (let j = 0; j < features; j++) {
    mean.push((aggregate[j] as number) / s);
    meanSquare.push((aggregate[features + j] as number) / s);
  }
  return { mean, meanSquare };
}

/**
 * The standardisation that follows from released moments (see the module comment): what the
 * coordinator publishes, the ledger records, the verifier recomputes and every participant applies.
 * Deterministic: the same released values give the same numbers everywhere.
 */
export function standardizationOf(released: UnitMoments, spec: FederatedStandardizationSpec): FixedStandardization {
  const mean: number[] = [];
  const std: number[] = [];
  spec.lower.forEach((lo, j) => {
    const range = (spec.upper[j] as number) - lo;
    const m = clamp01(released.mean[j] as number);
    const variance = (released.meanSquare[j] as number) - m * m;
    const su = Math.min(0.5, Math.sqrt(Math.max(variance, spec.stdFloor * spec.stdFloor)));
    mean.push(lo + range * m);
    std.push(range * su);
  });
  return { mean, std };
}

/**
 * Standard deviation of the DP noise on each released unit moment (m̂ or ŝ), for a mechanism whose
 * summed noise has standard deviation `noiseStd` per coordinate of the encoded vector (see
 * releasedNoiseStd) over `contributors` contributors: the noise of the sum, divided by the
 * contributors the mean is over and by the scale C/√(2F).
 */
export function statisticsNoiseStd(features: number, clipNorm: number, noiseStd: number, contributors: number): number {
  return noiseStd / contributors / unitScale(features, clipNorm);
}

/** Whether two standardisations are the same numbers (what a participant compares). */
export function sameStandardization(a: FixedStandardization, b: FixedStandardization): boolean {
  const eq = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.mean, b.mean) && eq(a.std, b.std);
}

/** The data schema participants apply once the statistics round released `standardize`. */
export function standardizedSchema(data: DataSchema, standardize: FixedStandardization): DataSchema {
  return { ...data, standardize: { mean: [...standardize.mean], std: [...standardize.std] } };
}

function unitScale(features: number, clipNorm: number): number {
  return (clipNorm / Math.sqrt(statisticsCoordinates(features))) * (1 - 1e-6);
}

function unit(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return 0;
  return (Math.min(hi, Math.max(lo, x)) - lo) / (hi - lo);
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/**
 * A participant's rows for training under the standardisation of the round (the TrainFn's
 * `standardization`): `train` and `heldOut` as read (raw features) when it is null, else both
 * standardised with it. Remembers the last standardisation, so that the rows are transformed once,
 * not every round.
 */
export function standardizedRows<T extends Dataset>(rows: { train: T; heldOut: T | null }): (s: FixedStandardization | null) => { train: T; heldOut: T | null } {
  let last: { s: FixedStandardization; out: { train: T; heldOut: T | null } } | null = null;
  return (s) => {
    if (s === null) return rows;
    if (last === null || !sameStandardization(last.s, s)) {
      const st = { mean: Float64Array.from(s.mean), std: Float64Array.from(s.std) };
      last = { s, out: { train: standardize(rows.train, st), heldOut: rows.heldOut === null ? null : standardize(rows.heldOut, st) } };
    }
    return last.out;
  };
}
