import { z } from 'zod';
import { check } from '../secagg/util/errors.js';
import { integerNoiseParameters, parseDpConfig, type DpConfig } from './config.js';
import { roundedL1NormBound } from './encoding/rounding.js';

/**
 * A privacy event in the style of Google's dp_accounting `DpEvent`: mechanisms described as data,
 * interpreted by accountants. JSON-serialisable as is (see spec/dp.md).
 *
 * - `gaussian`: Gaussian mechanism with noise stddev = noiseMultiplier × L2 sensitivity.
 * - `skellam`: symmetric Skellam Sk(mu, mu) per coordinate (variance 2·mu) on an integer-valued
 *   query with the given L1/L2 sensitivities, all in integer units (Agarwal, Kairouz, Liu 2021).
 * - `distributed_discrete_gaussian`: the sum of `contributors` independent discrete Gaussians of
 *   stddev `localStddev` per coordinate, integer units, `dim` coordinates (KLS 2021).
 * - `poisson_sampled`, `self_composed`, `composed`: as in dp_accounting.
 * - `no_op`: releases nothing. `non_private`: releases without privacy (ε = ∞).
 */
export type DpEvent =
  | { kind: 'gaussian'; noiseMultiplier: number }
  | { kind: 'skellam'; mu: number; l1Sensitivity: number; l2Sensitivity: number }
  | { kind: 'distributed_discrete_gaussian'; localStddev: number; contributors: number; l1Sensitivity: number; l2Sensitivity: number; dim: number }
  | { kind: 'poisson_sampled'; samplingProbability: number; event: DpEvent }
  | { kind: 'self_composed'; count: number; event: DpEvent }
  | { kind: 'composed'; events: DpEvent[] }
  | { kind: 'no_op' }
  | { kind: 'non_private' };

const positive = z.number().positive().finite();

/** zod schema of {@link DpEvent} (recursive, strict objects). */
export const DpEventSchema: z.ZodType<DpEvent> = z.lazy(() =>
  z.union([
    z.object({ kind: z.literal('gaussian'), noiseMultiplier: z.number().min(0).finite() }).strict(),
    z.object({ kind: z.literal('skellam'), mu: z.number().min(0).finite(), l1Sensitivity: positive, l2Sensitivity: positive }).strict(),
    z
      .object({
        kind: z.literal('distributed_discrete_gaussian'),
        localStddev: z.number().min(0).finite(),
        contributors: z.number().int().min(1),
        l1Sensitivity: positive,
        l2Sensitivity: positive,
        dim: z.number().int().min(1),
      })
      .strict(),
    z.object({ kind: z.literal('poisson_sampled'), samplingProbability: z.number().min(0).max(1), event: DpEventSchema }).strict(),
    z.object({ kind: z.literal('self_composed'), count: z.number().int().min(0), event: DpEventSchema }).strict(),
    z.object({ kind: z.literal('composed'), events: z.array(DpEventSchema) }).strict(),
    z.object({ kind: z.literal('no_op') }).strict(),
    z.object({ kind: z.literal('non_private') }).strict(),
  ]),
);

/** Poisson-subsampled Gaussian composed `steps` times: the DP-SGD / DP-FedAvg event. */
export function poissonGaussianEvent(samplingProbability: number, noiseMultiplier: number, steps: number): DpEvent {
  return { kind: 'self_composed', count: steps, event: { kind: 'poisson_sampled', samplingProbability, event: { kind: 'gaussian', noiseMultiplier } } };
}

/**
 * The privacy event of one round of `config` with sampling rate `samplingRate` and `contributors`
 * encodings in the sum, for updates of length `dim` (client-level DP: one client's rounded vector
 * is the sensitivity).
 *
 * - skellam: Sk(mu) with mu = contributors × local mu (the noise really in the sum), sensitivities
 *   B and B·min(√d, B) with B the conditional-rounding bound (integer units, padded d).
 * - ddg: `contributors` discrete Gaussians of the local stddev.
 * - central: Gaussian with noise multiplier z·C / (B·γ): the coordinator's noise z·C against the
 *   sensitivity of the rounded, decoded update B·γ (slightly above C).
 * - none: non_private.
 * Always wrapped in poisson_sampled(samplingRate).
 */
export function roundEvent(config: DpConfig, samplingRate: number, contributors: number, dim: number): DpEvent {
  const cfg = parseDpConfig(config);
  check(samplingRate > 0 && samplingRate <= 1, 'dp/bad-sampling-rate', `sampling rate must be in (0, 1], got ${samplingRate}`);
  check(Number.isSafeInteger(contributors) && contributors >= 1, 'dp/bad-contributors', `contributors must be a positive integer, got ${contributors}`);
  const p = integerNoiseParameters(cfg, dim);
  const l2 = p.l2Bound;
  const l1 = roundedL1NormBound(l2, p.paddedDim);
  let inner: DpEvent;
  switch (cfg.mechanism) {
    case 'skellam':
      inner = { kind: 'skellam', mu: contributors * p.localSkellamMu, l1Sensitivity: l1, l2Sensitivity: l2 };
      break;
    case 'ddg':
      inner = { kind: 'distributed_discrete_gaussian', localStddev: p.localDdgSigma, contributors, l1Sensitivity: l1, l2Sensitivity: l2, dim: p.paddedDim };
      break;
    case 'central':
      inner = { kind: 'gaussian', noiseMultiplier: (cfg.noiseMultiplier * cfg.clipNorm) / (l2 * cfg.scale) };
      break;
    case 'none':
      inner = { kind: 'non_private' };
      break;
  }
  return { kind: 'poisson_sampled', samplingProbability: samplingRate, event: inner };
}
