import type { DpConfig } from '../dp/index.js';
import type { FederationConfig } from './config.js';
import { evaluationNoiseStd, releasedNoiseStd, roundDim } from './federated-evaluation.js';

/** What a federation's noise will do to its rounds, before the first one runs. */
export interface NoiseOutlook {
  /** Participants expected per round (cohort size, or sampling rate × population). */
  expectedCohort: number;
  /**
   * Expected norm of the noise in the decoded mean update, as a multiple of the clip norm C: the
   * largest norm the mean of clipped updates can have. Above 1, the noise in a round is larger
   * than any signal the round can carry.
   */
  noiseToSignal: number;
  /** Standard deviation of the released federated accuracy, when the federation evaluates (cohorts evaluating `maxExamples` each). */
  accuracyStd: number | null;
  /** Participants per round that would bring `noiseToSignal` down to 1. */
  cohortForUnitRatio: number;
}

/** The expected noise-to-signal ratio of a federation's rounds (see {@link NoiseOutlook}). */
export function noiseOutlook(config: FederationConfig, dp: DpConfig): NoiseOutlook {
  const k = 'size' in config.cohort ? config.cohort.size : Math.max(1, config.cohort.samplingRate * config.participants.length);
  const d = roundDim(config);
  const meanNoise = (contributors: number) => (releasedNoiseStd(dp, contributors) * Math.sqrt(d)) / contributors / dp.clipNorm;
  let unit = Math.ceil(k);
  if (meanNoise(unit) > 1) {
    while (meanNoise(unit) > 1 && unit < 1e9) unit *= 2;
    let lo = Math.floor(unit / 2);
    while (unit - lo > 1) {
      const mid = Math.floor((lo + unit) / 2);
      if (meanNoise(mid) > 1) lo = mid;
      else unit = mid;
    }
  }
  const spec = config.evaluation;
  const accuracyStd = spec ? evaluationNoiseStd(spec, dp.clipNorm, releasedNoiseStd(dp, k)) / (k * spec.maxExamples) : null;
  return { expectedCohort: k, noiseToSignal: meanNoise(k), accuracyStd, cohortForUnitRatio: unit };
}

/**
 * The warnings an operator should read before starting a DP federation: a cohort too small for
 * its noise to leave a signal, and federated accuracy too noisy to read. Empty when there is no
 * DP noise or nothing to warn about.
 */
export function noiseWarnings(config: FederationConfig, dp: DpConfig): string[] {
  if (dp.mechanism === 'none' || dp.noiseMultiplier === 0) return [];
  const o = noiseOutlook(config, dp);
  const out: string[] = [];
  if (o.noiseToSignal > 1) {
    out.push(
      `with about ${o.expectedCohort.toFixed(0)} participants per round, noise multiplier ${dp.noiseMultiplier.toFixed(3)} and ${roundDim(config)} coordinates, ` +
        `the noise in each round's mean update is expected to be ${o.noiseToSignal.toFixed(1)}× the clip norm, larger than any update the round can carry: ` +
        `the model will learn little. Client-level DP needs many participants per round: about ${o.cohortForUnitRatio} for a ratio of 1 ` +
        `(or raise the ε target, or lower the number of rounds).`,
    );
  }
  if (o.accuracyStd !== null && o.accuracyStd > 0.05) {
    out.push(
      `federated accuracy will be released with noise of about ±${(100 * o.accuracyStd).toFixed(1)} percentage points (one standard deviation) per round; ` +
        'give `fedveil serve --test-data` a CSV of your own for exact figures, or raise evaluation.normShare.',
    );
  }
  return out;
}
