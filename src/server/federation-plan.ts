import { calibrateConfigNoise, checkModulusHeadroom, parseDpConfig, type DpConfig } from '../dp/index.js';
import type { GraphSpec } from '../protocol/config.js';
import { secaggPlusParameters } from '../secagg/index.js';
import type { FederationConfig } from './config.js';
import { roundDim } from './federated-evaluation.js';
import { statisticsRounds } from './federated-statistics.js';

/**
 * The DP configuration a federation's rounds encode with, derived from the config file: the
 * configured noise multiplier, or one calibrated so that `rounds` rounds (and the statistics round
 * of a federation with federated standardisation, which has a training round's event) reach
 * `dp.targetEpsilon` at `dp.delta` against ledger readers (the privacy report's headline): a participant in every
 * round, no amplification by sampling (the ledger names every cohort), and the worst case the
 * protocol allows, exactly `dp.minContributors` (default `threshold`) contributors per round (more
 * contributors only add noise), of which n − 1 − c noise shares count (c = the config's colluders,
 * who can subtract theirs: the ledger charges every round so, and so do amendments), with the
 * accountant `dp.accountant` names (RDP unless it says 'pld').
 * Throws FedveilError('dp/modulus-overflow') when the largest possible cohort could wrap 2^bits.
 */
export function federationDpConfig(config: FederationConfig): DpConfig {
  const { dp } = config;
  const base = {
    mechanism: dp.mechanism,
    clipNorm: dp.clipNorm,
    bits: dp.bits,
    scale: dp.scale,
    rotation: dp.rotation,
    minContributors: dp.minContributors ?? config.threshold,
    ...(dp.beta === undefined ? {} : { beta: dp.beta }),
  };
  let noiseMultiplier = 0;
  if (dp.mechanism !== 'none') {
    noiseMultiplier =
      dp.noiseMultiplier ??
      calibrateConfigNoise({
        config: { ...base, noiseMultiplier: 1 },
        epsilon: dp.targetEpsilon as number,
        delta: dp.delta,
        rounds: config.rounds + statisticsRounds(config),
        contributors: dp.minContributors ?? config.threshold,
        colluders: config.colluders ?? 0,
        dim: roundDim(config),
        accountant: dp.accountant ?? 'rdp',
      });
  }
  const cfg = parseDpConfig({ ...base, noiseMultiplier });
  checkModulusHeadroom(cfg, roundDim(config), maxCohortSize(config));
  return cfg;
}

/** Each participant's per-round inclusion probability (size / N for fixed-size cohorts). */
export function federationSamplingRate(config: FederationConfig): number {
  // Asynchronous groups are self-selected by readiness: nothing is sampled, nothing amplifies.
  if (config.async !== undefined) return 1;
  return 'size' in config.cohort ? config.cohort.size / config.participants.length : config.cohort.samplingRate;
}

/** The most participants a round can have. */
export function maxCohortSize(config: FederationConfig): number {
  return 'size' in config.cohort ? config.cohort.size : config.participants.length;
}

/**
 * Neighbour graph and Shamir threshold of a round of `n` participants. Complete mode uses the
 * configured threshold. SecAgg+ mode uses Bell et al.'s degree k and threshold t for the
 * configured dropout and corruption fractions, but never a threshold below the configured one
 * (the degree grows to at least t − 1 to make room), and the complete graph once k reaches n − 1.
 */
export function roundGraph(config: FederationConfig, n: number): { graph: GraphSpec; threshold: number } {
  if (config.neighbours.mode === 'complete') return { graph: { kind: 'complete' }, threshold: Math.min(config.threshold, n) };
  const p = secaggPlusParameters({
    n,
    dropoutFraction: config.neighbours.dropoutFraction,
    corruptionFraction: config.neighbours.corruptionFraction,
  });
  const threshold = Math.max(p.threshold, config.threshold);
  const degree = Math.max(p.degree, threshold - 1);
  if (degree >= n - 1) return { graph: { kind: 'complete' }, threshold: Math.min(threshold, n) };
  return { graph: { kind: 'secagg-plus', degree }, threshold };
}
