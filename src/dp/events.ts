import { z } from 'zod';
import { check } from '../secagg/util/errors.js';
import { cohortAmplifies, type CohortMethod } from './cohort.js';
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
 *   stddev `localStddev` per coordinate, integer units, `dim` coordinates (KLS 2021). In a round
 *   event `contributors` is the number of noise shares counted, n − 1 − c (see {@link noiseShares}).
 * - `poisson_sampled`, `self_composed`, `composed`: as in dp_accounting.
 * - `sampled_without_replacement`: dp_accounting's `SampledWithoutReplacementDpEvent`: `event` run
 *   on a uniformly random subset of `sampleSize` of `populationSize` records. Replace-one
 *   adjacency: the inner event's sensitivities must be those of replacing one record by another
 *   (twice the add/remove sensitivity of a norm-bounded update).
 * - `no_op`: releases nothing. `non_private`: releases without privacy (ε = ∞).
 */
export type DpEvent =
  | { kind: 'gaussian'; noiseMultiplier: number }
  | { kind: 'skellam'; mu: number; l1Sensitivity: number; l2Sensitivity: number }
  | { kind: 'distributed_discrete_gaussian'; localStddev: number; contributors: number; l1Sensitivity: number; l2Sensitivity: number; dim: number }
  | { kind: 'poisson_sampled'; samplingProbability: number; event: DpEvent }
  | { kind: 'sampled_without_replacement'; populationSize: number; sampleSize: number; event: DpEvent }
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
    z
      .object({
        kind: z.literal('sampled_without_replacement'),
        populationSize: z.number().int().min(1),
        sampleSize: z.number().int().min(0),
        event: DpEventSchema,
      })
      .strict()
      .refine((e) => e.sampleSize <= e.populationSize, { message: 'sampleSize must not exceed populationSize', path: ['sampleSize'] }),
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
 * Neighbouring relation an event's sensitivities are stated under: `add-remove` (one participant's
 * contribution present or absent) or `replace-one` (one participant's update replaced by another,
 * with the cohort size public; what fixed-size sampling needs).
 */
export type Adjacency = 'add-remove' | 'replace-one';

/**
 * Number of local noise shares that protect one participant in a round of `contributors` noised
 * encodings with `colluders` assumed colluding participants: n − 1 − c. The participant's own share
 * does not count (under add/remove adjacency its neighbouring world lacks it), nor do the
 * colluders' (the coordinator can subtract shares they reveal). Throws
 * FedveilError('dp/too-few-noise-shares') when fewer than one share is left.
 */
export function noiseShares(contributors: number, colluders: number): number {
  check(Number.isSafeInteger(contributors) && contributors >= 1, 'dp/bad-contributors', `contributors must be a positive integer, got ${contributors}`);
  check(Number.isSafeInteger(colluders) && colluders >= 0, 'dp/bad-colluders', `colluders must be a non-negative integer, got ${colluders}`);
  const shares = contributors - 1 - colluders;
  check(
    shares >= 1,
    'dp/too-few-noise-shares',
    `a round of ${contributors} contributors with ${colluders} assumed colluders leaves ${shares} noise share(s) protecting a participant; at least 1 is needed (n − 1 − c >= 1)`,
  );
  return shares;
}

/**
 * The unsampled mechanism event of one round of `config` with `contributors` encodings in the sum,
 * for updates of length `dim` (client-level DP: one client's rounded vector is the sensitivity),
 * stated under `adjacency`:
 *
 * - skellam: Sk(mu) with mu = (n − 1 − c) × local mu, sensitivities B and B·min(√d, B) with B the
 *   conditional-rounding bound (integer units, padded d).
 * - ddg: n − 1 − c discrete Gaussians of the local stddev.
 * - central: Gaussian with noise multiplier z·C / (B·γ): the coordinator's noise z·C against the
 *   sensitivity of the rounded, decoded update B·γ (slightly above C). The coordinator adds all of
 *   it, so neither n nor c enters.
 * - none: non_private.
 *
 * Under replace-one every sensitivity doubles (the Gaussian's noise multiplier halves): the
 * difference of two norm-bounded updates is bounded by twice the norm.
 */
export function mechanismEvent(config: DpConfig, contributors: number, colluders: number, dim: number, adjacency: Adjacency = 'add-remove'): DpEvent {
  const cfg = parseDpConfig(config);
  const p = integerNoiseParameters(cfg, dim);
  const factor = adjacency === 'replace-one' ? 2 : 1;
  const l2 = p.l2Bound * factor;
  const l1 = roundedL1NormBound(p.l2Bound, p.paddedDim) * factor;
  switch (cfg.mechanism) {
    case 'skellam':
      return { kind: 'skellam', mu: noiseShares(contributors, colluders) * p.localSkellamMu, l1Sensitivity: l1, l2Sensitivity: l2 };
    case 'ddg':
      return {
        kind: 'distributed_discrete_gaussian',
        localStddev: p.localDdgSigma,
        contributors: noiseShares(contributors, colluders),
        l1Sensitivity: l1,
        l2Sensitivity: l2,
        dim: p.paddedDim,
      };
    case 'central':
      check(Number.isSafeInteger(contributors) && contributors >= 1, 'dp/bad-contributors', `contributors must be a positive integer, got ${contributors}`);
      return { kind: 'gaussian', noiseMultiplier: (cfg.noiseMultiplier * cfg.clipNorm) / (p.l2Bound * cfg.scale * factor) };
    case 'none':
      return { kind: 'non_private' };
  }
}

/**
 * The round's event against anyone who reads the ledger (the coordinator included): the ledger
 * names every cohort, so no amplification by sampling — the unsampled add/remove
 * {@link mechanismEvent}. Composed per participant over the rounds it contributed to.
 */
export function ledgerReaderEvent(config: DpConfig, contributors: number, colluders: number, dim: number): DpEvent {
  return mechanismEvent(config, contributors, colluders, dim, 'add-remove');
}

/**
 * The round's event against someone who sees only the released models, under `adjacency` (the
 * report's; see {@link modelObserverAdjacency}): amplified by the draw that matches the cohort
 * method when {@link cohortAmplifies} — `poisson_sampled(rate, ·)` for a secret Poisson draw
 * (add/remove), `sampled_without_replacement(population, size, ·)` for a secret fixed-size draw
 * (replace-one) — otherwise (and for `non_private`) the unsampled mechanism.
 * Throws FedveilError('dp/mixed-sampling-adjacency') for a secret Poisson draw under replace-one
 * or a secret fixed-size draw under add/remove: no bound here covers those pairs.
 */
export function modelObserverEvent(config: DpConfig, cohort: CohortMethod, contributors: number, colluders: number, dim: number, adjacency: Adjacency): DpEvent {
  const inner = mechanismEvent(config, contributors, colluders, dim, adjacency);
  if (!cohortAmplifies(cohort) || inner.kind === 'non_private') return inner;
  if (cohort.kind === 'poisson') {
    check(adjacency === 'add-remove', 'dp/mixed-sampling-adjacency', 'a secret Poisson draw is accounted under add/remove adjacency, but this report needs replace-one (it also has secret fixed-size draws)');
    return { kind: 'poisson_sampled', samplingProbability: cohort.rate, event: inner };
  }
  check(cohort.kind === 'fixed', 'dp/bad-cohort', 'only Poisson and fixed-size draws amplify');
  check(adjacency === 'replace-one', 'dp/mixed-sampling-adjacency', 'a secret fixed-size draw is accounted under replace-one adjacency, not add/remove');
  return { kind: 'sampled_without_replacement', populationSize: cohort.population, sampleSize: cohort.size, event: inner };
}

/**
 * The adjacency the model-observer ε of a set of charged rounds is stated under: replace-one when
 * any round is a secret fixed-size draw (sampling without replacement is analysed under it),
 * add/remove otherwise. Throws FedveilError('dp/mixed-sampling-adjacency') when secret Poisson and
 * secret fixed-size draws are mixed.
 */
export function modelObserverAdjacency(cohorts: readonly CohortMethod[]): Adjacency {
  const fixed = cohorts.some((c) => c.kind === 'fixed' && cohortAmplifies(c));
  const poisson = cohorts.some((c) => c.kind === 'poisson' && cohortAmplifies(c));
  check(!(fixed && poisson), 'dp/mixed-sampling-adjacency', 'secret Poisson and secret fixed-size draws in one report: their amplification bounds hold under different adjacencies');
  return fixed ? 'replace-one' : 'add-remove';
}
